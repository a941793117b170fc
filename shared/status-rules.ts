/**
 * The single source of truth for image and task status changes. Handlers, the S3 trigger, the
 * sweeper and the import workflow never compare statuses themselves: they name a trigger and ask
 * `decideImage` / `decideTask`, then write the answer with a conditional update on the
 * status the rules saw; any other question about a status is one of the named predicates here
 * (`isGone`, `hasUsableData`, `isImportRunning`, ...). Pure: no AWS, no I/O.
 *
 * Reference: docs/lifecycle.md#allowed-transitions (domain state machine), docs/lifecycle.md#transitions (triggers), docs/lifecycle.md#task-statuses (tasks) and decisions
 * D1–D4 (`killed` is live: reachable from saving, uploading and importing; killed → deleted only).
 */

import type { Usage } from '#shared/quotas/usage';
import { BadRequest, Conflict, Forbidden, type GlanceError, NotFound } from './errors.ts';

export const IMAGE_STATUS = {
  queued: 'queued',
  saving: 'saving',
  uploading: 'uploading',
  importing: 'importing',
  active: 'active',
  deactivated: 'deactivated',
  killed: 'killed',
  pendingDelete: 'pending_delete',
  deleted: 'deleted',
} as const;
export type ImageStatus = (typeof IMAGE_STATUS)[keyof typeof IMAGE_STATUS];
export const IMAGE_STATUSES = /* @__PURE__ */ Object.values(IMAGE_STATUS) as readonly ImageStatus[];

export const TASK_STATUS = {
  pending: 'pending',
  processing: 'processing',
  success: 'success',
  failure: 'failure',
} as const;
export type TaskStatus = (typeof TASK_STATUS)[keyof typeof TASK_STATUS];
export const TASK_STATUSES = /* @__PURE__ */ Object.values(TASK_STATUS) as readonly TaskStatus[];

const { queued, saving, uploading, importing, active, deactivated, killed, pendingDelete, deleted } =
  IMAGE_STATUS;

/**
 * Allowed status pairs: docs/lifecycle.md#allowed-transitions plus D1 (saving, uploading, importing → killed; queued →
 * killed when a location's data fails verification, docs/locations.md#failure) and D1's "a killed image can only be
 * deleted". Self-transitions are never in the table.
 */
export const IMAGE_TRANSITIONS: Readonly<Record<ImageStatus, readonly ImageStatus[]>> = {
  queued: [saving, uploading, importing, active, killed, deleted],
  saving: [queued, active, killed, deleted],
  uploading: [queued, importing, killed, deleted],
  importing: [queued, active, killed, deleted],
  active: [deactivated, pendingDelete, deleted],
  deactivated: [active, deleted],
  killed: [deleted],
  pending_delete: [active, deleted],
  deleted: [],
};

export const isAllowedImageTransition = (from: ImageStatus, to: ImageStatus): boolean =>
  IMAGE_TRANSITIONS[from].includes(to);

/** How a refusal is reported: Glance answers different codes depending on the operation. */
type Refusal = 'conflict' | 'forbidden' | 'not-found';

interface ImageTriggerRule {
  /** Statuses the trigger may start from. */
  readonly from: readonly ImageStatus[];
  /** The status it leads to. Equal to `from` only for in-place triggers (`inPlace`). */
  readonly to: ImageStatus;
  /** Statuses in which the trigger is an idempotent no-op (deactivate on deactivated). */
  readonly noopFrom?: readonly ImageStatus[];
  /** Records an event without changing status (staged bytes arrived: the image stays uploading). */
  readonly inPlace?: boolean;
  /** Leaving queued/uploading for saving, active or importing needs both formats (docs/lifecycle.md#allowed-transitions). */
  readonly needsFormats?: boolean;
  readonly refusal: Refusal;
}

/**
 * Every trigger, by name. The handler that reacts to an operation names the trigger; the rules
 * say whether it applies to the image's current status and what the status becomes.
 */
export const IMAGE_TRIGGERS = {
  /** `PUT /file` or `POST /file/presign` (T2). Formats are required (400). */
  uploadStart: { from: [queued], to: saving, needsFormats: true, refusal: 'conflict' },
  /** Data arrived and verified (T3). */
  uploadFinish: { from: [saving], to: active, refusal: 'conflict' },
  /** Data arrived but cannot be trusted: size/hash mismatch, over cap or quota (D1, D3). */
  uploadReject: { from: [saving], to: killed, refusal: 'conflict' },
  /** `PUT /stage` or `POST /stage/presign` (T6); formats not needed. */
  stageStart: { from: [queued], to: uploading, refusal: 'conflict' },
  /** Staged bytes arrived; the image stays `uploading` with its size recorded. */
  stageFinish: { from: [uploading], to: uploading, inPlace: true, refusal: 'conflict' },
  /** Staged data over the cap or unreadable (D1). */
  stageReject: { from: [uploading], to: killed, refusal: 'conflict' },
  /** `POST /import` (T8, T9); which source status a method needs is checked by the import API. */
  importStart: { from: [uploading, queued], to: importing, needsFormats: true, refusal: 'conflict' },
  /** The workflow activated the image (T10). */
  importSucceed: { from: [importing], to: active, refusal: 'conflict' },
  /** The workflow's Catch branch (D4). */
  importFail: { from: [importing], to: killed, refusal: 'conflict' },
  /** A location was attached to a queued image (T13/T14): its data verified, or added by the legacy patch. */
  locationAdd: { from: [queued], to: active, needsFormats: true, refusal: 'conflict' },
  /** A location import's data failed verification (T15 with D1/D4: killed, not back to queued). */
  locationReject: { from: [queued], to: killed, refusal: 'conflict' },
  /** T16; already deactivated is a no-op; any other status is 403 (docs/lifecycle.md#transitions). */
  deactivate: { from: [active], to: deactivated, noopFrom: [deactivated], refusal: 'forbidden' },
  /** T17; already active is a no-op; any other status is 403. */
  reactivate: { from: [deactivated], to: active, noopFrom: [active], refusal: 'forbidden' },
  /** T18/T23: deleted and pending_delete images are invisible (404). */
  delete: {
    from: [queued, saving, uploading, importing, active, deactivated, killed],
    to: deleted,
    refusal: 'not-found',
  },
  /** T19: delayed delete keeps the data for the scrubber. */
  delayedDelete: { from: [active], to: pendingDelete, refusal: 'not-found' },
  /** T20: the scrubber finishes a delayed delete. */
  scrub: { from: [pendingDelete], to: deleted, refusal: 'conflict' },
  /** D2: an upload whose deadline passed with no data goes back to queued. */
  sweep: { from: [saving, uploading], to: queued, refusal: 'conflict' },
} as const satisfies Record<string, ImageTriggerRule>;

export type ImageTrigger = keyof typeof IMAGE_TRIGGERS;
export const IMAGE_TRIGGER_NAMES = /* @__PURE__ */ Object.keys(IMAGE_TRIGGERS) as ImageTrigger[];

/** What the rules need to know about an image. */
export interface ImageFacts {
  readonly id: string;
  readonly status: ImageStatus;
  readonly disk_format?: string | null;
  readonly container_format?: string | null;
}

/** The answer: write `to` conditionally on `from`, or do nothing. */
export type ImageDecision =
  | {
      readonly kind: 'transition';
      readonly trigger: ImageTrigger;
      readonly from: ImageStatus;
      readonly to: ImageStatus;
    }
  | { readonly kind: 'noop'; readonly trigger: ImageTrigger; readonly status: ImageStatus };

/** Why the rules refused; carries the HTTP error Glance gives for that operation. */
export class TransitionRefused extends Error {
  constructor(
    readonly trigger: string,
    readonly from: string,
    readonly error: GlanceError,
  ) {
    super(error.message);
    this.name = 'TransitionRefused';
  }
}

const refusalError = (refusal: Refusal, image: ImageFacts, trigger: ImageTrigger): GlanceError => {
  switch (refusal) {
    case 'forbidden':
      return new Forbidden(`Not allowed to ${trigger} image ${image.id} in status '${image.status}'.`);
    case 'not-found':
      return new NotFound(`No image found with ID ${image.id}`);
    case 'conflict':
      return new Conflict(
        `Image ${image.id} is in status '${image.status}'; '${trigger}' is not allowed from it.`,
      );
  }
};

/**
 * Decides what a trigger does to an image. Throws `TransitionRefused` (whose `error` is the
 * Glance error to answer with) when the trigger does not apply.
 */
export const decideImage = (image: ImageFacts, trigger: ImageTrigger): ImageDecision => {
  const rule: ImageTriggerRule = IMAGE_TRIGGERS[trigger];
  if (rule.noopFrom?.includes(image.status)) return { kind: 'noop', trigger, status: image.status };
  if (!rule.from.includes(image.status)) {
    throw new TransitionRefused(trigger, image.status, refusalError(rule.refusal, image, trigger));
  }
  if (rule.needsFormats && (!image.disk_format || !image.container_format)) {
    throw new TransitionRefused(
      trigger,
      image.status,
      new BadRequest(
        `Properties disk_format and container_format must be set prior to saving data (image ${image.id}).`,
      ),
    );
  }
  return { kind: 'transition', trigger, from: image.status, to: rule.to };
};

/**
 * Which trigger a DELETE is (docs/lifecycle.md#allowed-transitions `delete()`): with delayed delete on, an active image,
 * which has data, waits for the scrubber in `pending_delete`; everything else is deleted now.
 */
export const deleteTrigger = (status: ImageStatus, delayedDelete: boolean): 'delete' | 'delayedDelete' =>
  delayedDelete && IMAGE_TRIGGERS.delayedDelete.from.includes(status as typeof active)
    ? 'delayedDelete'
    : 'delete';

/** Whether a trigger records an event without changing the status. */
export const isInPlaceTrigger = (trigger: ImageTrigger): boolean =>
  (IMAGE_TRIGGERS[trigger] as ImageTriggerRule).inPlace === true;

/** Entering `queued` clears size and virtual_size (docs/lifecycle.md#image-statuses). */
export const clearsSizeOnEntry = (to: ImageStatus): boolean => to === queued;

// ---------------------------------------------------------------------------------------------
// Named questions about an image status. Code elsewhere asks these instead of comparing statuses.

/**
 * Gone: never listed, never shown, out of the indexes (docs/lifecycle.md#image-statuses). `pending_delete` is gone to
 * clients although its data waits for the scrubber; `killed` is NOT gone (decision D1 lists it).
 */
export const isGone = (status: ImageStatus): boolean => status === deleted || status === pendingDelete;

/** Image data may be read (downloaded, kept by a failed import) only in these statuses. */
export const hasUsableData = (status: ImageStatus): boolean => status === active || status === deactivated;

/**
 * The object an image's `data_key` names is the image's to keep in every status but `deleted`:
 * staged data while uploading or importing, its data while active or deactivated, and until the
 * scrubber while `pending_delete` (gone to clients, not yet to its data). An S3 event or a failed
 * import that arrives late must leave that object alone.
 */
export const keepsItsData = (status: ImageStatus): boolean => status !== deleted;

/** Queued: no data yet, nothing under way (a location import may hold the import lock). */
export const isQueued = (status: ImageStatus): boolean => status === queued;

/** The image is active: its data is the verified data (an import that activated it is done). */
export const isActive = (status: ImageStatus): boolean => status === active;

/** Deactivated: only administrators may download its data (docs/uploads.md#downloads). */
export const isDeactivated = (status: ImageStatus): boolean => status === deactivated;

/** Killed: the upload or import failed; the image can only be deleted (decision D1). */
export const isKilled = (status: ImageStatus): boolean => status === killed;

/** Waiting for the scrubber with its data (delayed delete, T19/T20). */
export const isPendingDelete = (status: ImageStatus): boolean => status === pendingDelete;

/** An import is moving data into the image (T8-T10). */
export const isImporting = (status: ImageStatus): boolean => status === importing;

/** What an image holds of one kind of quota in a status (see `USAGE_HELD`). */
interface Holding {
  /** `image_count_total`: the image exists (killed included: it is listed, decision D1). */
  readonly counted: boolean;
  /** `image_count_uploading`: data is on its way (an upload, staging or an import). */
  readonly uploading: boolean;
  /** `image_size_total`: the image's data (`stored`), or the size an upload declared (`declared`). */
  readonly data: 'none' | 'stored' | 'declared';
  /** `image_stage_total`: staged data, or the size a staging upload declared. */
  readonly staged: boolean;
}

/**
 * Which of its owner's quotas an image holds in each status (docs/quotas.md#held-usage), as
 * Glance counts them (`image_size_total`: data of images that are not killed or deleted;
 * `image_stage_total`: staged data of uploading and importing images; `image_count_uploading`:
 * saving, uploading, importing), except that a killed image still counts as an image (D1).
 * An upload holds its declared size from its start, so the data is reserved before it is accepted.
 */
export const USAGE_HELD: Readonly<Record<ImageStatus, Holding>> = {
  queued: { counted: true, uploading: false, data: 'none', staged: false },
  saving: { counted: true, uploading: true, data: 'declared', staged: false },
  uploading: { counted: true, uploading: true, data: 'none', staged: true },
  importing: { counted: true, uploading: true, data: 'none', staged: true },
  active: { counted: true, uploading: false, data: 'stored', staged: false },
  deactivated: { counted: true, uploading: false, data: 'stored', staged: false },
  killed: { counted: true, uploading: false, data: 'none', staged: false },
  pending_delete: { counted: true, uploading: false, data: 'stored', staged: false },
  deleted: { counted: false, uploading: false, data: 'none', staged: false },
};

/** What an image needs to know to say which usage it holds. */
export interface UsageFacts {
  readonly status: ImageStatus;
  /** Bytes of its data, or of its staged data while uploading or importing. */
  readonly size: number | null;
  readonly upload: { readonly declared_size: number | null } | null;
}

/**
 * The usage an image holds now, in bytes and images: every write of an image records it on the
 * image and moves the difference on its owner's usage item (shared/quotas/ledger.ts), so no
 * handler has to remember which status holds what.
 */
export const usageHeldBy = (image: UsageFacts): Usage => {
  const held = USAGE_HELD[image.status];
  const declared = image.upload?.declared_size ?? 0;
  return {
    image_size_total: held.data === 'stored' ? (image.size ?? 0) : held.data === 'declared' ? declared : 0,
    image_stage_total: held.staged ? (image.size ?? declared) : 0,
    image_count_total: held.counted ? 1 : 0,
    image_count_uploading: held.uploading ? 1 : 0,
  };
};

/**
 * `disk_format` and `container_format` may change only while `queued`, before any data arrived.
 * Glance 25.1's domain setters also allow `importing`; here a change while importing would let
 * data the import verified as one format end `active` declared as another, so it is refused too
 * (decision D10).
 */
export const allowsFormatChange = (status: ImageStatus): boolean => status === queued;

/**
 * A location may be attached (the legacy `/locations` patch, docs/locations.md#legacy-patch): Glance allows adding and
 * replacing locations on `queued` and `active` images.
 */
export const acceptsLegacyLocation = (status: ImageStatus): boolean => status === queued || status === active;

/** The import methods, as far as the status rules are concerned. */
export type ImportMethodName = 'glance-direct' | 'web-download';

/**
 * The status an import method starts from (docs/import-workflow.md#import-api table): glance-direct imports staged data
 * (`uploading`), web-download fills an empty image (`queued`).
 */
export const IMPORT_SOURCE_STATUS = {
  'glance-direct': uploading,
  'web-download': queued,
} as const satisfies Record<ImportMethodName, ImageStatus>;

/** Whether an image in `status` is where `method` starts from. */
export const isImportSource = (method: ImportMethodName, status: ImageStatus): boolean =>
  IMPORT_SOURCE_STATUS[method] === status;

// ---------------------------------------------------------------------------------------------
// Tasks (docs/lifecycle.md#task-statuses)

export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  pending: ['processing', 'failure'],
  processing: ['success', 'failure'],
  success: [],
  failure: [],
};

export const TASK_TRIGGERS = {
  /** The workflow picked the task up. */
  start: { from: ['pending'], to: 'processing' },
  /** The workflow finished. */
  succeed: { from: ['processing'], to: 'success' },
  /** The workflow's Catch branch, or a stale-lock bust ("Expired lock preempted"). */
  fail: { from: ['pending', 'processing'], to: 'failure' },
} as const satisfies Record<string, { from: readonly TaskStatus[]; to: TaskStatus }>;

export type TaskTrigger = keyof typeof TASK_TRIGGERS;
export const TASK_TRIGGER_NAMES = /* @__PURE__ */ Object.keys(TASK_TRIGGERS) as TaskTrigger[];

export interface TaskDecision {
  readonly trigger: TaskTrigger;
  readonly from: TaskStatus;
  readonly to: TaskStatus;
}

/** Decides a task status change; terminal tasks refuse everything with a 409. */
export const decideTask = (task: { id: string; status: TaskStatus }, trigger: TaskTrigger): TaskDecision => {
  const rule: { from: readonly TaskStatus[]; to: TaskStatus } = TASK_TRIGGERS[trigger];
  if (!rule.from.includes(task.status)) {
    throw new TransitionRefused(
      trigger,
      task.status,
      new Conflict(`Task ${task.id} is in status '${task.status}'; '${trigger}' is not allowed from it.`),
    );
  }
  return { trigger, from: task.status, to: rule.to };
};

/** Tasks in these statuses are finished: `expires_at` is set on entry (docs/lifecycle.md#task-statuses). */
export const isTerminalTaskStatus = (status: TaskStatus): boolean => TASK_TRANSITIONS[status].length === 0;

/** Created, not picked up by its workflow yet (its import lock is stale after 120 minutes, not 60). */
export const isTaskPending = (status: TaskStatus): boolean => status === TASK_STATUS.pending;

/** Its workflow is running it. */
export const isTaskProcessing = (status: TaskStatus): boolean => status === TASK_STATUS.processing;

/** Finished with success. */
export const isTaskSucceeded = (status: TaskStatus): boolean => status === TASK_STATUS.success;

/**
 * An import is running (docs/import-workflow.md#import-flow "confirm lock ownership"): its task is processing and its image
 * importing. Whether this task holds the image's lock is a separate question (shared/import/lock.ts).
 */
export const isImportRunning = (task: { status: TaskStatus }, image: { status: ImageStatus }): boolean =>
  isTaskProcessing(task.status) && isImporting(image.status);

/**
 * A location import is running (docs/locations.md#the-location_import-task): its task is processing and the image
 * still `queued` (it goes `queued → active` in one step, `locationAdd`).
 */
export const isLocationImportRunning = (
  task: { status: TaskStatus },
  image: { status: ImageStatus },
): boolean => isTaskProcessing(task.status) && isQueued(image.status);
