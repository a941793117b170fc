import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTORY_PAGE_LIMIT, historyPageView, mergeHistory, parseHistoryQuery } from '#shared/images/history';
import type { HistoryEntry } from '#shared/images/model';

const entry = (version: number): HistoryEntry => ({
  version,
  from: 'active',
  to: 'deactivated',
  trigger: 'deactivate',
  actor: 'a',
  at: '2026-01-01T00:00:00.000Z',
});

describe('mergeHistory', () => {
  it('pages the items and the outbox entry in version order, each version once, whatever was flushed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.nat({ max: 45 }),
        fc.integer({ min: 1, max: 10 }),
        (count, flushed, after, limit) => {
          // Items 1..count-1 are written; the latest is in the outbox and, after a crash, maybe an item too.
          const all = Array.from({ length: count }, (_, i) => entry(i + 1));
          const items = (flushed ? all : all.slice(0, -1))
            .filter((e) => e.version > after)
            .slice(0, limit + 1);
          const complete = items.length <= limit;
          const page = mergeHistory(items, [all.at(-1) as HistoryEntry], after, limit, complete);
          const expected = all.filter((e) => e.version > after);
          expect(page.entries.map((e) => e.version)).toEqual(expected.slice(0, limit).map((e) => e.version));
          expect(page.more).toBe(expected.length > limit);
        },
      ),
    );
  });
});

describe('the history query', () => {
  it('defaults to the largest page and lowers a larger limit to it', () => {
    expect(parseHistoryQuery(new URLSearchParams())).toEqual({ limit: HISTORY_PAGE_LIMIT, after: 0 });
    expect(parseHistoryQuery(new URLSearchParams('limit=5000&marker=7'))).toEqual({
      limit: HISTORY_PAGE_LIMIT,
      after: 7,
    });
  });

  it.each(['limit=-1', 'limit=abc', 'limit=1.5', 'marker=x', 'marker=-3', 'limit='])(
    'refuses %s with 400',
    (query) => {
      expect(() => parseHistoryQuery(new URLSearchParams(query))).toThrow(
        expect.objectContaining({ status: 400 }),
      );
    },
  );

  it('links the next page with the last version as marker, and only while entries follow', () => {
    expect(historyPageView('i', { entries: [entry(1), entry(4)], more: true }, 2)).toEqual({
      image_id: 'i',
      history: [entry(1), entry(4)],
      first: '/v2/images/i/history',
      next: '/v2/images/i/history?marker=4&limit=2',
    });
    expect(historyPageView('i', { entries: [entry(5)], more: false }, 2)).not.toHaveProperty('next');
  });
});
