/**
 * Decision B2: every transition is published as an event, the way Glance emits notifications.
 * The table's stream is the source, so an event is published exactly for what was written, even
 * when the writer crashed right after its conditional update. Pure: stream images in, events out.
 */
import type { HistoryEntry } from './images/model.ts';
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

/**
 * Each transition writes its history entry into the image item's outbox, in the same update
 * (decision B1), so the entries in the new outbox that the old one did not have are exactly the
 * transitions this write made, creation included. Edits (PATCH, tags), fencing and the history
 * items themselves change no outbox.
 */
const imageEvents = (change: ChangedItem): TransitionEvent[] => {
  if ((change.new?.sk ?? change.old?.sk) !== IMAGE_SORT_KEY) return [];
  const before = new Set(
    ((change.old?.outbox as HistoryEntry[] | undefined) ?? []).map((entry) => entry.version),
  );
  const after = (change.new?.outbox as HistoryEntry[] | undefined) ?? [];
  return after
    .filter((entry) => !before.has(entry.version))
    .map((entry) => ({
      Source: EVENT_SOURCE,
      DetailType: EVENT_DETAIL_TYPES.image,
      Time: entryTime(entry.at),
      Detail: JSON.stringify({
        image_id: change.new?.id,
        owner: change.new?.owner ?? null,
        from: entry.from,
        to: entry.to,
        trigger: entry.trigger,
        actor: entry.actor,
        at: entry.at,
        ...(entry.reason === undefined ? {} : { reason: entry.reason }),
      }),
    }));
};

/** Tasks keep no history: a changed `status` is the transition. */
const taskEvents = (change: ChangedItem): TransitionEvent[] => {
  const from = change.old?.status ?? null;
  const to = change.new?.status;
  if (to === undefined || to === from) return [];
  return [
    {
      Source: EVENT_SOURCE,
      DetailType: EVENT_DETAIL_TYPES.task,
      Time: entryTime(change.new?.updated_at),
      Detail: JSON.stringify({
        task_id: change.new?.id,
        type: change.new?.type,
        owner: change.new?.owner ?? null,
        image_id: change.new?.image_id ?? null,
        from,
        to,
        at: change.new?.updated_at,
        ...(typeof change.new?.message === 'string' && change.new.message !== ''
          ? { message: change.new.message }
          : {}),
      }),
    },
  ];
};

/** The events one changed item stands for; history, quota, idempotency and other records stand for none. */
export const transitionEvents = (change: ChangedItem): TransitionEvent[] => {
  const pk = String(change.new?.pk ?? change.old?.pk ?? '');
  if (pk.startsWith('IMAGE#')) return imageEvents(change);
  if (pk.startsWith('TASK#')) return taskEvents(change);
  return [];
};
