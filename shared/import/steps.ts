/**
 * The import workflow's steps (docs/import-workflow.md#import-flow), one function per state of state-machine.ts. Each
 * reads the task and image afresh, asks the status rules, writes conditionally, and is
 * idempotent: run twice (a retry, a replayed execution), it finds its work done and returns the
 * same result, or refuses with an `ImportError` that the failure branch turns into a clean
 * failure. The execution state carries only small results (keys, sizes, digests).
 *
 * A `location_import` task runs the same steps (docs/locations.md#the-location_import-task): the image stays `queued`
 * under the task's lock, Verify reads the location where it is, nothing is copied, and Activate writes `locationAdd`;
 * its failure kills the queued image (`locationReject`).
 */

import { DataTooLarge } from '#shared/data/digest';
import type { DataLimits } from '#shared/data/limits';
import { allowedBytes } from '#shared/data/limits';
import { type TimeBudget, VerificationTimedOut, verifyData } from '#shared/data/verify';
import { decideImageData, type ImageFormatPolicy } from '#shared/image-format/decision';
import { isUuid } from '#shared/images/access';
import { applyTrigger } from '#shared/images/actions';
import type { ImageRecord } from '#shared/images/model';
import type { ImageConflict, ImageRepository } from '#shared/images/repository';
import type { LocationSettings } from '#shared/locations/url';
import { verifyLocationData } from '#shared/locations/verify';
import { recordImport } from '#shared/metrics';
import { retryOnConflict } from '#shared/retry';
import {
  decideTask,
  hasUsableData,
  IMAGE_STATUS,
  IMPORT_SOURCE_STATUS,
  isActive,
  isGone,
  isImporting,
  isImportRunning,
  isImportSource,
  isLocationImportRunning,
  isQueued,
  isTaskPending,
  isTaskProcessing,
  isTaskSucceeded,
  isTerminalTaskStatus,
  keepsItsData,
  TASK_STATUS,
} from '#shared/status-rules';
import { imageDataKeyOf, isStagingKeyOf, stagingKeyOf } from '#shared/storage/bucket';
import type { ObjectStore } from '#shared/storage/object-store';
import { importSourceOf, type TaskRecord } from '#shared/tasks/model';
import type { TaskRepository } from '#shared/tasks/repository';
import { ImportError } from './errors.ts';
import { LOCK_PROPERTY, lockHolder, withoutLock } from './lock.ts';
import { clip, failTask } from './records.ts';
import { noStagedDataMessage, stagedData } from './staged-data.ts';
import { ERROR_NAMES, failedStepOf } from './state-machine.ts';
import type { UriFilter } from './uri-filter.ts';
import { openDownload } from './web-download.ts';

/** Who the image history names for the workflow's transitions. */
export const IMPORT_ACTOR = 'system:import-workflow';

export interface StepDeps {
  readonly images: ImageRepository;
  readonly tasks: TaskRepository;
  readonly store: ObjectStore;
  readonly limits: DataLimits;
  /** Glance's `[image_format]` options (docs/image-formats.md#configuration). */
  readonly formatPolicy: ImageFormatPolicy;
  readonly filter: UriFilter;
  /** Where `location_import` tasks may read from (docs/locations.md#accepted-urls). */
  readonly locations: LocationSettings;
  readonly taskTimeToLiveHours: number;
  readonly now?: () => Date;
  /** Copy tuning (tests force the multipart path with a low limit). */
  readonly copy?: { readonly singleCopyLimit?: number; readonly partSize?: number };
}

/** What the failure branch needs: no URI filter, no data limits (the sweeper calls it too). */
export type FailureDeps = Pick<StepDeps, 'images' | 'tasks' | 'store' | 'taskTimeToLiveHours' | 'now'>;

export interface MarkResult {
  readonly image_id: string;
  readonly method: 'glance-direct' | 'web-download' | 'location';
}
/**
 * The data to verify: an object of the service (`key`, `size`), or, for a `location_import` task, the location itself
 * (`location`), which is read where it is and never copied (docs/locations.md#the-location_import-task).
 */
export type FetchResult =
  | { readonly key: string; readonly size: number; readonly location?: undefined }
  | { readonly location: string; readonly key?: undefined };
export interface VerifyResult {
  readonly size: number;
  readonly checksum: string;
  readonly os_hash_algo: string;
  readonly os_hash_value: string;
  readonly virtual_size: number | null;
  /** The ETag of the object that was hashed; promote copies only that version. */
  readonly etag: string | null;
}
/** Where the image's data ends up: its key, or (location import) its location. */
export type PromoteResult =
  | { readonly key: string; readonly location?: undefined }
  | { readonly location: string; readonly key?: undefined };
export interface DoneResult {
  readonly status: string;
}
export interface FailureResult {
  readonly task_id: string;
  readonly step: string | null;
  readonly message: string;
  readonly task_status: string | null;
}

/**
 * What every workflow function receives (its Parameters): the execution state and the name of
 * the execution (`$$.Execution.Name`).
 */
export interface StepInput {
  readonly state: ImportState;
  readonly execution?: string;
}

/** The execution state: the input `{task_id}` plus each step's result under its key. */
export interface ImportState {
  readonly task_id: string;
  readonly mark?: MarkResult;
  readonly fetch?: FetchResult;
  readonly verify?: VerifyResult;
  readonly promote?: PromoteResult;
  readonly activate?: DoneResult;
  readonly complete?: DoneResult;
  /** Where the Catch puts `{Error, Cause}`. */
  readonly error?: { readonly Error?: string; readonly Cause?: unknown };
}

const taskIdOf = (state: unknown): string => {
  const id = (state as { task_id?: unknown } | null)?.task_id;
  if (typeof id !== 'string' || !isUuid(id)) {
    throw new ImportError('The execution input must be {"task_id": "<task id>"}.');
  }
  return id.toLowerCase();
};

const loadTask = async (deps: StepDeps, state: ImportState): Promise<TaskRecord> => {
  const id = taskIdOf(state);
  const task = await deps.tasks.get(id);
  if (!task) throw new ImportError(`Task ${id} does not exist.`);
  return task;
};

const loadImage = async (deps: StepDeps, task: TaskRecord): Promise<ImageRecord> => {
  const image = task.image_id ? await deps.images.get(task.image_id) : undefined;
  if (!image || isGone(image.status)) {
    throw new ImportError(`Image ${task.image_id ?? '(none)'} of task ${task.id} no longer exists.`);
  }
  return image;
};

/**
 * Only the execution that started a task moves it on: a console re-run while it runs is refused
 * (and its failure branch leaves the task and image to their execution).
 */
const owns = (task: TaskRecord, execution: string | undefined): boolean =>
  task.execution === undefined || execution === undefined || task.execution === execution;

const requireOwner = (task: TaskRecord, execution: string | undefined) => {
  if (!owns(task, execution)) {
    throw new ImportError(
      `Task ${task.id} is being run by execution ${task.execution}; this execution leaves it alone.`,
    );
  }
};

/** A `location_import` task: the image stays `queued` until `locationAdd` (docs/locations.md). */
const isLocationTask = (task: Pick<TaskRecord, 'type'>): boolean => task.type === 'location_import';

const sourceOf = (task: TaskRecord) => {
  const source = importSourceOf(task);
  if (!source)
    throw new ImportError(`Task ${task.id} (type ${task.type}) is not an import this workflow can run.`);
  return source;
};

/**
 * Glance's "confirm lock ownership" (docs/import-workflow.md#import-flow step 3) before every data step: the task is
 * still processing and the image still importing under its lock. Refreshes the task's
 * `updated_at` so that a long import never looks like a stale lock.
 */
const requireRunning = async (deps: StepDeps, state: ImportState, execution: string | undefined) => {
  const task = await loadTask(deps, state);
  if (!isTaskProcessing(task.status)) {
    throw new ImportError(`Task ${task.id} is '${task.status}', not processing; the import was stopped.`);
  }
  requireOwner(task, execution);
  const image = await loadImage(deps, task);
  const running = isLocationTask(task) ? isLocationImportRunning(task, image) : isImportRunning(task, image);
  if (!running || lockHolder(image) !== task.id) {
    throw new ImportError(
      `Image ${image.id} is '${image.status}' with ${LOCK_PROPERTY} = ${lockHolder(image) ?? 'none'}; task ${task.id} no longer holds it.`,
    );
  }
  return { task: await deps.tasks.touch(task, deps.now?.()), image };
};

const requireResult = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) {
    throw new ImportError(`The execution state has no ${what}; start the workflow from its first state.`);
  }
  return value;
};

/** Mark: task pending → processing, image uploading|queued → importing. */
export const mark = async (deps: StepDeps, state: ImportState, execution?: string): Promise<MarkResult> => {
  let task = await loadTask(deps, state);
  const source = sourceOf(task);
  if (isTaskPending(task.status)) {
    task = await deps.tasks.transition(task, decideTask(task, 'start'), {
      ...(execution === undefined ? {} : { set: { execution } }),
      timeToLiveHours: deps.taskTimeToLiveHours,
      now: deps.now?.(),
    });
  } else if (!isTaskProcessing(task.status)) {
    throw new ImportError(`Task ${task.id} is already '${task.status}'; there is nothing to run.`);
  }
  requireOwner(task, execution);
  const image = await loadImage(deps, task);
  if (lockHolder(image) !== task.id) {
    throw new ImportError(
      `Image ${image.id} is not locked by task ${task.id} (${LOCK_PROPERTY} = ${lockHolder(image) ?? 'none'}).`,
    );
  }
  if (source.method === 'location') {
    // No status change: the image goes queued → active in one step when its data is verified.
    if (!isQueued(image.status)) {
      throw new ImportError(
        `Image ${image.id} is '${image.status}'; a location can only be added to a queued image.`,
      );
    }
    return { image_id: image.id, method: source.method };
  }
  if (!isImporting(image.status)) {
    if (!isImportSource(source.method, image.status)) {
      const required = IMPORT_SOURCE_STATUS[source.method];
      throw new ImportError(`Image ${image.id} is '${image.status}'; ${source.method} needs '${required}'.`);
    }
    // `uploading` also covers a presigned stage whose data has not arrived: not importable yet.
    const staged = source.method === 'glance-direct' ? await stagedData(image, deps.store) : undefined;
    if (source.method === 'glance-direct' && !staged) throw new ImportError(noStagedDataMessage(image.id));
    await applyTrigger(deps.images, image, 'importStart', {
      actor: IMPORT_ACTOR,
      reason: `${source.method} import, task ${task.id}`,
      // Out of the pending-upload index (gsi3) for good: no upload can be in flight any more. A
      // staged object the trigger has not recorded yet is recorded here, in the same conditional
      // write; the trigger then finds it current (or, having won the race, makes this step retry).
      // Its size is what the importing image holds of image_stage_total: data of an undeclared
      // size is reserved here, and fails the import with the quota's reason when it does not fit.
      set: { upload: null, ...(staged?.fromUpload ? { data_key: staged.key, size: staged.size } : {}) },
      now: deps.now?.(),
    });
  }
  return { image_id: image.id, method: source.method };
};

/**
 * The most a web-download may bring, and what sets it: the size cap, or the room the owner has
 * left of `image_size_total` (the image it becomes) or of `image_stage_total` (where it is
 * downloaded to), whichever is smallest (docs/quotas.md#where-they-are-checked).
 */
const downloadRoom = async (
  deps: StepDeps,
  image: ImageRecord,
): Promise<{ readonly maxBytes: number; readonly limitedBy: string }> => {
  let room = { maxBytes: deps.limits.sizeCap, limitedBy: 'the size cap' };
  for (const quota of ['image_size_total', 'image_stage_total'] as const) {
    const left = await deps.images.roomFor(image, quota);
    if (left < room.maxBytes) {
      room = { maxBytes: left, limitedBy: `what project ${image.owner} has left of ${quota}` };
    }
  }
  return room;
};

/** Fetch: web-download streams the URL into staging; glance-direct uses the staged object. */
export const fetch = async (deps: StepDeps, state: ImportState, execution?: string): Promise<FetchResult> => {
  const { task, image } = await requireRunning(deps, state, execution);
  const source = sourceOf(task);
  if (source.method === 'location') return { location: source.url };
  if (source.method === 'glance-direct') {
    if (!isStagingKeyOf(image.id, image.data_key)) {
      throw new ImportError(`Image ${image.id} has no staged data (data_key ${image.data_key ?? 'null'}).`);
    }
    const size = await deps.store.size(image.data_key);
    if (size === undefined)
      throw new ImportError(`The staged data of image ${image.id} (${image.data_key}) is missing.`);
    return { key: image.data_key, size };
  }
  const download = await openDownload(source.uri, {
    filter: deps.filter,
    ...(await downloadRoom(deps, image)),
  });
  const key = stagingKeyOf(image.id, task.id);
  const size = await deps.store.upload(key, download.body);
  return { key, size };
};

/**
 * Verify: the verify pass (shared/data/verify.ts) over a ranged read of the fetched object: size,
 * md5 and sha512, and the disk-format inspection of a `bare` image (docs/image-formats.md). Refused,
 * and so failed for good: data over the size cap or quota (not even read when the object is
 * already larger), data contradicting what the image records, data not in its declared format or
 * unsafe, data not verified before the function's time is nearly up.
 */
export const verify = async (
  deps: StepDeps,
  state: ImportState,
  execution?: string,
  budget?: TimeBudget,
): Promise<VerifyResult> => {
  const { task, image } = await requireRunning(deps, state, execution);
  const fetched = requireResult(state.fetch, 'fetched data (Fetch)');
  const maxBytes = await allowedBytes(deps.images, deps.limits, image);
  if (fetched.location !== undefined) {
    const source = sourceOf(task);
    const expected = { osHashValue: source.method === 'location' ? source.osHashValue : undefined };
    const verified = await verifyLocationData(image, fetched.location, expected, deps, maxBytes, budget);
    return { ...verified, etag: null };
  }
  // The verify pass is done with each chunk before it asks for the next.
  const object = await deps.store.openRanged(fetched.key, { reuseBuffers: true });
  if (!object) throw new ImportError(`The fetched data ${fetched.key} is missing.`);
  const tooLarge = () =>
    new ImportError(
      `The image data is larger than the ${maxBytes} bytes this image may hold (size cap ${deps.limits.sizeCap} bytes, or what project ${image.owner} has left of image_size_total).`,
    );
  if (object.size > maxBytes) throw tooLarge();
  const inspect = image.container_format === 'bare';
  let verified: Awaited<ReturnType<typeof verifyData>>;
  try {
    verified = await verifyData(object.chunks, { maxBytes, expectedBytes: object.size, inspect, budget });
  } catch (error) {
    if (error instanceof DataTooLarge) throw tooLarge();
    if (error instanceof VerificationTimedOut) {
      throw new ImportError(
        `The data could not be verified within the function time limit: ${error.bytes} of ${object.size} bytes read in ${Math.round(error.ms / 1000)} s.`,
      );
    }
    throw error;
  }
  const { digest, inspection } = verified;
  const mismatch = (what: string, found: unknown, expected: unknown) =>
    new ImportError(`The data's ${what} is ${String(found)}, but the image records ${String(expected)}.`);
  if (image.size !== null && image.size !== digest.size) throw mismatch('size', digest.size, image.size);
  if (image.checksum !== null && image.checksum !== digest.checksum) {
    throw mismatch('checksum', digest.checksum, image.checksum);
  }
  if (image.os_hash_value !== null && image.os_hash_value !== digest.os_hash_value) {
    throw mismatch('os_hash_value', digest.os_hash_value, image.os_hash_value);
  }
  const format = inspection ? decideImageData(image, inspection, deps.formatPolicy) : undefined;
  if (format && !format.accept) throw new ImportError(format.reason);
  return { ...digest, virtual_size: format?.virtual_size ?? null, etag: object.etag };
};

/** Promote: the verified object to `images/<image_id>/<task_id>`, the staged one removed. */
export const promote = async (
  deps: StepDeps,
  state: ImportState,
  execution?: string,
): Promise<PromoteResult> => {
  const { task, image } = await requireRunning(deps, state, execution);
  const fetched = requireResult(state.fetch, 'fetched data (Fetch)');
  const verified = requireResult(state.verify, 'digest (Verify)');
  // A location is not copied: the image points at it.
  if (fetched.location !== undefined) return { location: fetched.location };
  const source = fetched.key;
  const destination = imageDataKeyOf(image.id, task.id);
  const staged = await deps.store.head(source);
  if (staged) {
    if (staged.size !== verified.size || (verified.etag && staged.etag && staged.etag !== verified.etag)) {
      throw new ImportError(`The staged data ${source} changed after it was verified.`);
    }
    await deps.store.copy(source, destination, verified.size, { ...deps.copy, ifMatch: verified.etag });
    await deps.store.delete([source]);
  } else if ((await deps.store.size(destination)) !== verified.size) {
    throw new ImportError(`The staged data ${source} is gone and ${destination} is incomplete.`);
  }
  return { key: destination };
};

/** Activate: image importing → active with its data fields; the lock goes in the same write. */
export const activate = async (
  deps: StepDeps,
  state: ImportState,
  execution?: string,
): Promise<DoneResult> => {
  const task = await loadTask(deps, state);
  requireOwner(task, execution);
  const image = await loadImage(deps, task);
  const promoted = requireResult(state.promote, 'promoted data (Promote)');
  const digest = requireResult(state.verify, 'digest (Verify)');
  if (promoted.location !== undefined) return activateLocation(deps, task, image, promoted.location, digest);
  const key = promoted.key;
  if (isActive(image.status) && image.data_key === key) return { status: image.status };
  if (!isTaskProcessing(task.status))
    throw new ImportError(`Task ${task.id} is '${task.status}', not processing.`);
  if (!isImportRunning(task, image) || lockHolder(image) !== task.id) {
    throw new ImportError(`Image ${image.id} is '${image.status}' and not locked by task ${task.id}.`);
  }
  await applyTrigger(deps.images, image, 'importSucceed', {
    actor: IMPORT_ACTOR,
    reason: `imported by task ${task.id}`,
    set: {
      data_key: key,
      size: digest.size,
      checksum: digest.checksum,
      os_hash_algo: digest.os_hash_algo,
      os_hash_value: digest.os_hash_value,
      virtual_size: digest.virtual_size,
    },
    removeProperties: [LOCK_PROPERTY],
    now: deps.now?.(),
  });
  return { status: IMAGE_STATUS.active };
};

/** The verified location goes on the image: `queued → active` (`locationAdd`) with the lock dropped, in one write. */
const activateLocation = async (
  deps: StepDeps,
  task: TaskRecord,
  image: ImageRecord,
  url: string,
  digest: VerifyResult,
): Promise<DoneResult> => {
  if (isActive(image.status) && hasLocation(image, url)) return { status: image.status };
  if (!isTaskProcessing(task.status))
    throw new ImportError(`Task ${task.id} is '${task.status}', not processing.`);
  if (!isLocationImportRunning(task, image) || lockHolder(image) !== task.id) {
    throw new ImportError(`Image ${image.id} is '${image.status}' and not locked by task ${task.id}.`);
  }
  await applyTrigger(deps.images, image, 'locationAdd', {
    actor: IMPORT_ACTOR,
    reason: `location ${url} verified by task ${task.id}`,
    set: {
      locations: [{ url, metadata: {} }],
      size: digest.size,
      checksum: digest.checksum,
      os_hash_algo: digest.os_hash_algo,
      os_hash_value: digest.os_hash_value,
      virtual_size: digest.virtual_size,
      upload: null,
    },
    removeProperties: [LOCK_PROPERTY],
    now: deps.now?.(),
  });
  return { status: IMAGE_STATUS.active };
};

const hasLocation = (image: ImageRecord, url: string): boolean =>
  (image.locations ?? []).some((location) => location.url === url);

/** Complete: task processing → success with `{"image_id"}` (docs/import-workflow.md#import-flow steps 8-9). */
export const complete = async (
  deps: StepDeps,
  state: ImportState,
  execution?: string,
): Promise<DoneResult> => {
  const task = await loadTask(deps, state);
  requireOwner(task, execution);
  if (isTaskSucceeded(task.status)) return { status: TASK_STATUS.success };
  if (!isTaskProcessing(task.status))
    throw new ImportError(`Task ${task.id} is '${task.status}', not processing.`);
  const image = await loadImage(deps, task);
  const promoted = state.promote;
  const landed =
    promoted?.location !== undefined
      ? hasUsableData(image.status) && hasLocation(image, promoted.location)
      : hasUsableData(image.status) && image.data_key === promoted?.key;
  if (!landed) {
    throw new ImportError(`Image ${image.id} is '${image.status}': none of the uploads finished.`);
  }
  const done = await deps.tasks.transition(task, decideTask(task, 'succeed'), {
    set: { result: { image_id: image.id }, message: '' },
    timeToLiveHours: deps.taskTimeToLiveHours,
    now: deps.now?.(),
  });
  recordImport(
    state.mark?.method ?? 'unknown',
    Date.parse(done.updated_at) - Date.parse(task.created_at),
    state.verify?.size ?? image.size ?? 0,
  );
  return { status: TASK_STATUS.success };
};

/** Lambda reports `{"errorType", "errorMessage", "trace"}` as the Cause; the local runner a string. */
const causeText = (cause: unknown): string => {
  if (typeof cause !== 'string') return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the cause is the message itself.
  }
  return cause;
};

/** The task `message` and image reason for a caught error: which step, what went wrong. */
export const failureMessage = (step: string | undefined, error: ImportState['error']): string => {
  const where = step ? `Import failed at step ${step}` : 'Import failed';
  const name = error?.Error ?? 'UnknownError';
  const cause = causeText(error?.Cause);
  if (name === ERROR_NAMES.permanent) return clip(`${where}: ${cause}`);
  if (name === ERROR_NAMES.transient) return clip(`${where}: ${cause} (still failing after retries)`);
  if (name === 'States.Timeout' || name === 'Sandbox.Timedout') {
    return clip(`${where}: the step did not finish in time (${name}).`);
  }
  return clip(`${where}: ${name}${cause ? `: ${cause}` : ''}`);
};

/**
 * The image side of a failure (decision D4): if the task still holds the lock, an importing
 * image becomes `killed` with the reason (history and `os_glance_failure_reason`) and the lock
 * goes in the same write; an image the import never reached (still uploading/queued) only gets
 * its lock back, keeping its data. Returns the image as it was and whether it was killed.
 */
const failImage = async (
  deps: FailureDeps,
  imageId: string,
  taskId: string,
  message: string,
  location: boolean,
) => {
  const first = await deps.images.get(imageId);
  return retryOnConflict<{ before: ImageRecord | undefined; killed: boolean }, ImageConflict>(
    async (previous) => {
      const image = previous ? previous.current : first;
      // A deleted image keeps its tombstone as it is; its data goes with the delete.
      if (!image || isGone(image.status) || lockHolder(image) !== taskId)
        return { before: first, killed: false };
      if (isImporting(image.status)) {
        await applyTrigger(deps.images, image, 'importFail', {
          actor: IMPORT_ACTOR,
          reason: message,
          set: { data_key: null },
          removeProperties: [LOCK_PROPERTY],
          now: deps.now?.(),
        });
        return { before: image, killed: true };
      }
      if (location && isQueued(image.status)) {
        // A location import keeps the image queued under its lock until the end (D1: killed, not back to queued).
        await applyTrigger(deps.images, image, 'locationReject', {
          actor: IMPORT_ACTOR,
          reason: message,
          removeProperties: [LOCK_PROPERTY],
          now: deps.now?.(),
        });
        return { before: image, killed: true };
      }
      await deps.images.update(image, { properties: withoutLock(image) }, deps.now?.());
      return { before: image, killed: false };
    },
  );
};

/**
 * The failure branch: image killed (or its lock released), the task's data objects removed, task
 * `failure` with the message. Image first, task last: if anything fails midway, the retry (or the
 * execution-ended rule) finds the task still running and finishes the job. Idempotent: on a task
 * that already finished it changes nothing (and never touches data an active image uses).
 */
export const failImport = async (
  deps: FailureDeps,
  state: ImportState,
  explicit: { readonly message?: string; readonly execution?: string } = {},
): Promise<FailureResult> => {
  const step =
    explicit.message === undefined ? failedStepOf(state as unknown as Record<string, unknown>) : undefined;
  const message = explicit.message ?? failureMessage(step, state.error);
  let taskId: string;
  try {
    taskId = taskIdOf(state);
  } catch {
    return { task_id: String(state?.task_id ?? ''), step: step ?? null, message, task_status: null };
  }
  const task = await deps.tasks.get(taskId);
  if (!task) return { task_id: taskId, step: step ?? null, message, task_status: null };
  // Another execution runs this task: its outcome is that execution's business.
  if (!isTerminalTaskStatus(task.status) && !owns(task, explicit.execution)) {
    return { task_id: taskId, step: step ?? null, message, task_status: task.status };
  }

  if (task.image_id) {
    const imageId = task.image_id;
    const { before, killed } = await failImage(deps, imageId, task.id, message, isLocationTask(task));
    const keys = new Set([stagingKeyOf(imageId, task.id), imageDataKeyOf(imageId, task.id)]);
    if (killed && isStagingKeyOf(imageId, before?.data_key)) keys.add(before.data_key);
    const fetchedKey = state.fetch?.key;
    if (killed && isStagingKeyOf(imageId, fetchedKey)) keys.add(fetchedKey);
    const now = await deps.images.get(imageId);
    // The data an image keeps (pending_delete too, until the scrubber) is never the import's to remove.
    if (now?.data_key && keepsItsData(now.status)) keys.delete(now.data_key);
    await deps.store.delete(keys);
  }
  const ended = await failTask(deps.tasks, task, message, deps.taskTimeToLiveHours, deps.now?.());
  return { task_id: taskId, step: step ?? null, message, task_status: ended?.status ?? null };
};
