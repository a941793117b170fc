/**
 * The transition history (decision B1, docs/lifecycle.md#history) as stored and as paged. Each
 * transition's conditional update writes its entry into the image's `outbox`; the next
 * transition first writes that entry as its own item (`IMAGE#<id>` / `HISTORY#<version>`,
 * idempotent), then replaces it. So the image item holds one entry whatever the number of
 * transitions, the entry is in the very write it describes, and a reader sees every entry once:
 * the items, plus the outbox entry not yet written as an item (merged by version).
 * Pure: no AWS, no I/O.
 */
import { BadRequest } from '#shared/errors';
import { historyKey } from '#shared/table';
import type { HistoryEntry } from './model.ts';

/** Entries per page when `limit` is not given, and the most a page holds (a larger limit is lowered). */
export const HISTORY_PAGE_LIMIT = 100;

/** The item that keeps one entry. */
export const historyItem = (imageId: string, entry: HistoryEntry): Record<string, unknown> => ({
  ...historyKey(imageId, entry.version),
  ...entry,
});

/** The entry an item keeps. */
export const entryOfItem = (item: Record<string, unknown>): HistoryEntry => {
  const { pk: _pk, sk: _sk, ...entry } = item;
  return entry as unknown as HistoryEntry;
};

export interface HistoryPage {
  readonly entries: HistoryEntry[];
  /** More entries follow the last one. */
  readonly more: boolean;
}

/**
 * One page from items read in version order after `after` (`complete`: nothing follows them in
 * the table) and the image's outbox, each entry once.
 */
export const mergeHistory = (
  items: readonly HistoryEntry[],
  outbox: readonly HistoryEntry[],
  after: number,
  limit: number,
  complete: boolean,
): HistoryPage => {
  const byVersion = new Map<number, HistoryEntry>();
  for (const entry of [...items, ...(complete ? outbox : [])]) {
    if (entry.version > after && !byVersion.has(entry.version)) byVersion.set(entry.version, entry);
  }
  const all = [...byVersion.values()].sort((a, b) => a.version - b.version);
  return { entries: all.slice(0, limit), more: all.length > limit || !complete };
};

/** `limit` and `marker` of `GET /v2/images/{id}/history`: 400 unless non-negative integers. */
export const parseHistoryQuery = (query: URLSearchParams): { limit: number; after: number } => {
  const integer = (name: string, fallback: number): number => {
    const text = query.get(name);
    if (text === null) return fallback;
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw new BadRequest(`${name} param must be a non-negative integer (got '${text}').`);
    }
    return Number(text);
  };
  const limit = integer('limit', HISTORY_PAGE_LIMIT);
  return { limit: Math.min(limit, HISTORY_PAGE_LIMIT), after: integer('marker', 0) };
};

/**
 * The body: `{image_id, history, first, next?}`; `next` carries the version of the page's last
 * entry as `marker`.
 */
export const historyPageView = (imageId: string, page: HistoryPage, limit: number) => {
  const path = `/v2/images/${imageId}/history`;
  const last = page.entries.at(-1);
  return {
    image_id: imageId,
    history: page.entries,
    first: path,
    ...(page.more && last ? { next: `${path}?marker=${last.version}&limit=${limit}` } : {}),
  };
};
