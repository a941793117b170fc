/**
 * Starting imports: `POST /v2/images/{id}/import` (interoperable import) and `POST /v2/tasks`
 * (legacy `import` task). Both end the same way: the image carries the import lock, a pending
 * task exists, and a workflow execution named after the task runs it.
 *
 * `POST /import` checks in the order of docs/import-workflow.md#import-api (the first failure wins, nothing is written
 * before the last check passed):
 *
 *  1. body: over its size or nesting limit (checked on the raw text by the handler,
 *     shared/http/json-body.ts), `method` / `method.name` missing, method not enabled (copy-image,
 *     glance-download), `all_stores_must_succeed` / `all_stores` not boolean → 400
 *  2. image invisible → 404
 *  3. no room in the image owner's quotas for its data or (web-download) one more upload and its
 *     staged download → 413
 *     (the quotas are the owner's, so the image is loaded first; an invisible image stays 404)
 *  4. status: glance-direct needs `uploading` with its staged data in S3 (recorded by the trigger,
 *     or the stage upload's object already there: staged-data.ts `stagedData`), web-download
 *     `queued` → 409
 *  5. `container_format`, then `disk_format` missing → 409
 *  7. policy `modify_image` → 403 (404 when invisible)
 *  8. lock held by a live task → 409
 * 11. `all_stores_must_succeed: false` without multi-store → 400
 * 12. web-download URI refused by the filter → 400
 * 13. lock taken with one conditional write (a concurrent import loses → 409; a stale lock's task
 *     is failed "Expired lock preempted"), task created `pending`, execution started → 202
 *
 * (6, 9 and 10 concern glance-download and multi-store, which this deployment does not have.)
 */

import { randomUUID } from 'node:crypto';
import type { Caller } from '#shared/auth';
import type { DataLimits } from '#shared/data/limits';
import { ENABLED_IMPORT_METHODS, type ImportMethod } from '#shared/discovery';
import { BadRequest, Conflict, Forbidden, InternalError } from '#shared/errors';
import { loadImageAccess } from '#shared/images/access';
import { imageFromCreateBody } from '#shared/images/create';
import { DISK_FORMATS, type ImageRecord } from '#shared/images/model';
import { ImageConflict, type ImageRepository } from '#shared/images/repository';
import { logger } from '#shared/logger';
import { canModifyImage, canUseTasksApi, requireImagePolicy } from '#shared/policy';
import { retryOnConflict } from '#shared/retry';
import { IMPORT_SOURCE_STATUS, isImportSource, isTerminalTaskStatus } from '#shared/status-rules';
import type { ObjectStore } from '#shared/storage/object-store';
import type { Executions } from '#shared/tasks/executions';
import { TASK_TYPES, type TaskRecord } from '#shared/tasks/model';
import type { TaskRepository } from '#shared/tasks/repository';
import { checkFault } from './faults.ts';
import { LOCK_PROPERTY, lockState, withLock } from './lock.ts';
import { failTask, newTaskRecord, releaseLock } from './records.ts';
import { noStagedDataMessage, stagedData } from './staged-data.ts';
import { checkUriWithDns, type UriFilter, UriRefused } from './uri-filter.ts';

export interface ImportApiDeps {
  readonly images: ImageRepository;
  readonly tasks: TaskRepository;
  readonly executions: Executions;
  readonly limits: DataLimits;
  readonly filter: UriFilter;
  readonly taskTimeToLiveHours: number;
  /** HeadObject of a staged object the S3 trigger has not recorded yet. */
  readonly store: Pick<ObjectStore, 'size'>;
  readonly now?: () => Date;
}

export interface ImportRequest {
  readonly method: ImportMethod;
  readonly uri: unknown;
  readonly allStoresMustSucceed: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Step 1: the body alone. */
export const parseImportBody = (body: Record<string, unknown>): ImportRequest => {
  const method = body.method;
  if (method === undefined || method === null)
    throw new BadRequest("Import request requires a 'method' field.");
  if (!isObject(method)) throw new BadRequest("Import request field 'method' must be an object.");
  const name = method.name;
  if (name === undefined || name === null || name === '') {
    throw new BadRequest("Import request requires a 'method.name' field.");
  }
  if (typeof name !== 'string' || !(ENABLED_IMPORT_METHODS as readonly string[]).includes(name)) {
    throw new BadRequest(
      `Import method ${JSON.stringify(name)} is not enabled; enabled methods: ${ENABLED_IMPORT_METHODS.join(', ')}.`,
    );
  }
  for (const key of ['all_stores_must_succeed', 'all_stores']) {
    if (body[key] !== undefined && typeof body[key] !== 'boolean') {
      throw new BadRequest(`Import request field '${key}' must be a boolean.`);
    }
  }
  if (
    body.stores !== undefined &&
    !(Array.isArray(body.stores) && body.stores.every((s) => typeof s === 'string'))
  ) {
    throw new BadRequest("Import request field 'stores' must be a list of store ids.");
  }
  return {
    method: name as ImportMethod,
    uri: method.uri,
    allStoresMustSucceed: body.all_stores_must_succeed !== false,
  };
};

const refusedUri = async (filter: UriFilter, uri: unknown): Promise<void> => {
  try {
    await checkUriWithDns(filter, uri);
  } catch (error) {
    if (error instanceof UriRefused) {
      throw new BadRequest(`URI for web-download does not pass filtering: ${error.message}`);
    }
    throw error;
  }
};

/** What `POST /v2/tasks` takes: the web-download path reads no staged object, so no object store. */
export type TaskApiDeps = Omit<ImportApiDeps, 'store' | 'limits'>;

/** What creating a task and starting its execution takes: no object store, no filter. */
export type TaskLaunchDeps = Pick<ImportApiDeps, 'images' | 'tasks' | 'executions' | 'taskTimeToLiveHours'>;

/** Starts the execution; if it cannot be started, the task fails and the lock is released. */
const startOrAbandon = async (deps: TaskLaunchDeps, task: TaskRecord): Promise<void> => {
  // Tests stall here to stop the API between the pending task and its execution (docs/testing.md#fault-injection).
  await checkFault('StartExecution', 'start', task.image_id ?? undefined);
  try {
    await deps.executions.start(task.id);
  } catch (cause) {
    logger.error('could not start the import workflow', { taskId: task.id, error: cause as Error });
    const message = `The import workflow could not be started: ${(cause as Error).message}`;
    await failTask(deps.tasks, task, message, deps.taskTimeToLiveHours);
    if (task.image_id) await releaseLock(deps.images, task.image_id, task.id);
    throw new InternalError({ cause });
  }
};

/** Creates the task of a lock already taken; a failure releases the lock again. */
const createTask = async (deps: TaskLaunchDeps, task: TaskRecord): Promise<void> => {
  try {
    await deps.tasks.create(task);
  } catch (error) {
    if (task.image_id) await releaseLock(deps.images, task.image_id, task.id).catch(() => {});
    throw error;
  }
};

/** Creates the caller's task on an image it has locked and starts the task's execution. */
export const launchTask = async (
  deps: TaskLaunchDeps,
  caller: Caller,
  fields: Omit<Parameters<typeof newTaskRecord>[0], 'owner' | 'userId'>,
): Promise<TaskRecord> => {
  const task = newTaskRecord({ ...fields, owner: caller.projectId, userId: caller.userId });
  await createTask(deps, task);
  await startOrAbandon(deps, task);
  return task;
};

/**
 * Runs an import request's checks and its lock write (`run`) again on the fresh image whenever the
 * write loses to a concurrent one (shared/retry.ts): a write that changed nothing the request
 * depends on (a PATCH of the name, a tag, the S3 trigger recording the stage) costs a run, not a
 * 409, and a fresh image that is locked or in the wrong status is refused by the checks
 * themselves. A request that loses every run is answered 409 with `message`.
 */
export const lockWithRetry = async <R>(run: () => Promise<R>, message: string): Promise<R> => {
  try {
    return await retryOnConflict(run);
  } catch (error) {
    if (error instanceof ImageConflict) throw new Conflict(message, { cause: error });
    throw error;
  }
};

/** `POST /v2/images/{image_id}/import`: the task, once its execution is started. */
export const requestImport = async (
  deps: ImportApiDeps,
  caller: Caller,
  imageId: string,
  body: Record<string, unknown>,
  requestId?: string,
): Promise<TaskRecord> => {
  const now = deps.now?.() ?? new Date();
  const request = parseImportBody(body);

  const taskId = randomUUID();
  // Checks 2-13, run again on the fresh image if the lock write loses (docs/import-workflow.md#import-lock).
  const { image, lock } = await lockWithRetry(async () => {
    const { image, membership } = await loadImageAccess(deps.images, caller, imageId);

    // The quotas are the image owner's (an admin importing into another project uses that project's):
    // room for the data (its staged size, or at least a byte) and, from queued, one more upload and
    // (Glance's enforce_image_staging_total) at least a byte of staging, where the download goes.
    // Glance checks the caller's own; checked here only for a caller who may import into the image,
    // so nobody else learns the owner's usage from a 413 (the policy's 403 comes below).
    if (canModifyImage(caller, image)) {
      await deps.images.ledger.requireRoom(image.owner, {
        image_size_total: Math.max(1, image.size ?? 0),
        image_stage_total: request.method === 'web-download' ? 1 : 0,
        image_count_uploading: request.method === 'web-download' ? 1 : 0,
      });
    }

    if (!isImportSource(request.method, image.status)) {
      const required = IMPORT_SOURCE_STATUS[request.method];
      throw new Conflict(
        `Image ${image.id} is '${image.status}'; import method ${request.method} needs an image in status '${required}'.`,
      );
    }
    if (request.method === 'glance-direct' && !(await stagedData(image, deps.store))) {
      throw new Conflict(noStagedDataMessage(image.id));
    }
    if (!image.container_format) {
      throw new Conflict(`Image ${image.id} has no container_format; set it before importing.`);
    }
    if (!image.disk_format)
      throw new Conflict(`Image ${image.id} has no disk_format; set it before importing.`);

    requireImagePolicy(caller, image, canModifyImage, 'import data into', membership);

    const lock = await lockState(deps.tasks, image, now);
    if (lock.kind === 'live') {
      throw new Conflict(
        `Image ${image.id} has active task ${lock.taskId}; try again later (the lock expires in ${Math.ceil(lock.remainingMs / 60_000)} minutes).`,
      );
    }

    if (!request.allStoresMustSucceed) {
      throw new BadRequest('all_stores_must_succeed can only be false when several stores are enabled.');
    }
    if (request.method === 'web-download') await refusedUri(deps.filter, request.uri);

    await deps.images.update(image, { properties: withLock(image, taskId) }, now);
    return { image, lock };
  }, `Image ${imageId} changed while the import was being requested (another import holds ${LOCK_PROPERTY}?); try again.`);
  if (lock.kind === 'stale' && lock.task && !isTerminalTaskStatus(lock.task.status)) {
    await failTask(deps.tasks, lock.task, 'Expired lock preempted', deps.taskTimeToLiveHours).catch((error) =>
      logger.warn('could not fail the task of a busted lock', { taskId: lock.taskId, error }),
    );
  }

  return launchTask(deps, caller, {
    id: taskId,
    type: 'api_image_import',
    input: { image_id: image.id, import_req: body, backend: null },
    imageId: image.id,
    requestId,
    now,
  });
};

/**
 * `POST /v2/tasks` (admin only): Glance's deprecated `import` task creates a new image from
 * `input.image_properties` and imports `input.import_from` into it (web-download path of the
 * same workflow). Only `import` can be created here: letting callers create `api_image_import`
 * tasks directly would bypass the import lock (Glance pain point 5, docs/decisions.md#glance-pain-points).
 */
export const createImportTask = async (
  deps: TaskApiDeps,
  caller: Caller,
  body: Record<string, unknown>,
  requestId?: string,
): Promise<TaskRecord> => {
  if (!canUseTasksApi(caller)) throw new Forbidden('You are not authorized to create tasks.');
  for (const key of ['type', 'input']) {
    if (!(key in body)) throw new BadRequest(`Task '${key}' is required.`);
  }
  const { type, input } = body;
  if (typeof type !== 'string' || !(TASK_TYPES as readonly string[]).includes(type)) {
    throw new BadRequest(`Task type must be one of ${TASK_TYPES.join(', ')}.`);
  }
  if (!isObject(input)) throw new BadRequest("Task 'input' must be an object.");
  if (type !== 'import') {
    throw new BadRequest(
      `Tasks of type '${type}' cannot be created through /v2/tasks; use POST /v2/images/{image_id}/import.`,
    );
  }
  if (typeof input.import_from !== 'string' || input.import_from === '') {
    throw new BadRequest("Task input requires 'import_from', the URL of the image data.");
  }
  if (!isObject(input.image_properties)) {
    throw new BadRequest("Task input requires 'image_properties', an object of image attributes.");
  }
  const format = input.import_from_format;
  if (
    format !== undefined &&
    (typeof format !== 'string' || !(DISK_FORMATS as readonly string[]).includes(format))
  ) {
    throw new BadRequest(`Task input 'import_from_format' must be one of ${DISK_FORMATS.join(', ')}.`);
  }
  await refusedUri(deps.filter, input.import_from);

  const now = deps.now?.() ?? new Date();
  const properties = { ...input.image_properties };
  if (format !== undefined && properties.disk_format === undefined) properties.disk_format = format;
  const created = imageFromCreateBody(properties, caller, now);
  if (!created.disk_format || !created.container_format) {
    throw new BadRequest(
      'The image needs disk_format (or import_from_format) and container_format to be imported.',
    );
  }
  const taskId = randomUUID();
  const image: ImageRecord = {
    ...created,
    properties: withLock(created, taskId),
    outbox: created.outbox.map((entry) => ({ ...entry, reason: `created by import task ${taskId}` })),
  };
  await deps.images.create(image);

  return launchTask(deps, caller, { id: taskId, type: 'import', input, imageId: image.id, requestId, now });
};
