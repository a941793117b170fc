/**
 * Decision B2: every transition is published as an event, the way Glance emits notifications.
 * The table's stream is the source, so an event is published exactly for what was written, even
 * when the writer crashed right after its conditional update; the same transitions are counted as
 * metrics there (shared/metrics.ts). Pure: stream images in, transitions and events out.
 */
import type { HistoryEntry } from './images/model.ts';
import { TASK_TRIGGERS } from './status-rules.ts';
import { IMAGE_SORT_KEY } from './table.ts';

export const EVENT_SOURCE = 'serverless-glance';
export const EVENT_DETAIL_TYPES = {
  image: 'Image Status Changed',
  task: 'Task Status Changed',
} as const;

/** One EventBridge entry (the fields of PutEvents we set). */
export interface TransitionEvent {
  readonly Source: typeof EVENT_SOURCE;
  readonly DetailType: (typeof EVENT_DETAIL_TYPES)[keyof typeof EVENT_DETAIL_TYPES];
  readonly Detail: string;
  readonly Time: Date;
}

/** A stream record, already unmarshalled to plain objects. */
export interface ChangedItem {
  readonly old?: Record<string, unknown>;
  readonly new?: Record<string, unknown>;
}

const entryTime = (at: unknown): Date => {
  const time = typeof at === 'string' ? new Date(at) : new Date(Number.NaN);
  return Number.isNaN(time.getTime()) ? new Date() : time;
};

/** One transition a write made, as read back from the table's stream. */
export type Transition =
  | {
      readonly kind: 'image';
      readonly item: Record<string, unknown> | undefined;
      readonly entry: HistoryEntry;
    }
  | {
      readonly kind: 'task';
      readonly item: Record<string, unknown> | undefined;
      /** The trigger of the status rules whose pair this is (`create` for a new task). */
      readonly trigger: string;
      readonly from: string | null;
      readonly to: string;
    };

/**
 * Each transition writes its history entry into the image item's outbox, in the same update
 * (decision B1), so the entries in the new outbox that the old one did not have are exactly the
 * transitions this write made, creation included. Edits (PATCH, tags), fencing and the history
 * items themselves change no outbox.
 */
const imageTransitions = (change: ChangedItem): Transition[] => {
  if ((change.new?.sk ?? change.old?.sk) !== IMAGE_SORT_KEY) return [];
  const before = new Set(
    ((change.old?.outbox as HistoryEntry[] | undefined) ?? []).map((entry) => entry.version),
  );
  const after = (change.new?.outbox as HistoryEntry[] | undefined) ?? [];
  return after
    .filter((entry) => !before.has(entry.version))
    .map((entry): Transition => ({ kind: 'image', item: change.new, entry }));
};

/** The task trigger whose rule goes from `from` to `to` (tasks record no trigger of their own). */
const taskTriggerOf = (from: string | null, to: string): string => {
  if (from === null) return 'create';
  const found = Object.entries(TASK_TRIGGERS).find(
    ([, rule]) => rule.to === to && (rule.from as readonly string[]).includes(from),
  );
  return found?.[0] ?? 'unknown';
};

/** Tasks keep no history: a changed `status` is the transition. */
const taskTransitions = (change: ChangedItem): Transition[] => {
  const from = (change.old?.status as string | undefined) ?? null;
  const to = change.new?.status as string | undefined;
  if (to === undefined || to === from) return [];
  return [{ kind: 'task', item: change.new, trigger: taskTriggerOf(from, to), from, to }];
};

/** The transitions one changed item holds; history, quota, idempotency and other records hold none. */
export const transitionsOf = (change: ChangedItem): Transition[] => {
  const pk = String(change.new?.pk ?? change.old?.pk ?? '');
  if (pk.startsWith('IMAGE#')) return imageTransitions(change);
  if (pk.startsWith('TASK#')) return taskTransitions(change);
  return [];
};

/** The event a transition is published as. */
export const transitionEvent = (transition: Transition): TransitionEvent => {
  const item = transition.item;
  if (transition.kind === 'image') {
    const { entry } = transition;
    return {
      Source: EVENT_SOURCE,
      DetailType: EVENT_DETAIL_TYPES.image,
      Time: entryTime(entry.at),
      Detail: JSON.stringify({
        image_id: item?.id,
        // With the image id, names the transition: a consumer drops a repeated delivery by it.
        version: entry.version,
        owner: item?.owner ?? null,
        from: entry.from,
        to: entry.to,
        trigger: entry.trigger,
        actor: entry.actor,
        at: entry.at,
        ...(entry.reason === undefined ? {} : { reason: entry.reason }),
      }),
    };
  }
  return {
    Source: EVENT_SOURCE,
    DetailType: EVENT_DETAIL_TYPES.task,
    Time: entryTime(item?.updated_at),
    Detail: JSON.stringify({
      task_id: item?.id,
      type: item?.type,
      owner: item?.owner ?? null,
      image_id: item?.image_id ?? null,
      from: transition.from,
      to: transition.to,
      at: item?.updated_at,
      ...(typeof item?.message === 'string' && item.message !== '' ? { message: item.message } : {}),
    }),
  };
};

/** The events one changed item stands for; history, quota, idempotency and other records stand for none. */
export const transitionEvents = (change: ChangedItem): TransitionEvent[] =>
  transitionsOf(change).map(transitionEvent);
