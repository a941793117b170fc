/**
 * The import lock (docs/import-workflow.md#import-lock): the reserved property `os_glance_import_task` holds the id of the
 * task working on the image. It is taken with one conditional write on the image (status and
 * version as read, so a concurrent import loses with 409), released by the workflow when it
 * activates the image or fails, and busted by a later import when it is stale.
 *
 * Stale, as in Glance: the task does not exist, or its `updated_at` is 60 minutes old (120 while
 * it is still pending), whatever its status. One refinement: the lock is written just before its
 * task record, so a missing task only counts once the image has not changed for 5 minutes;
 * otherwise a concurrent import could bust a lock whose task is being created.
 */
import type { ImageRecord } from '#shared/images/model';
import { isTaskPending } from '#shared/status-rules';
import type { TaskRecord } from '#shared/tasks/model';
import type { TaskRepository } from '#shared/tasks/repository';

export const LOCK_PROPERTY = 'os_glance_import_task';
export const LOCK_EXPIRY_MS = 60 * 60_000;
export const MISSING_TASK_GRACE_MS = 5 * 60_000;

export type LockState =
  | { readonly kind: 'free' }
  | { readonly kind: 'live'; readonly taskId: string; readonly remainingMs: number }
  | { readonly kind: 'stale'; readonly taskId: string; readonly task: TaskRecord | undefined };

export const lockHolder = (image: Pick<ImageRecord, 'properties'>): string | undefined =>
  image.properties[LOCK_PROPERTY] || undefined;

export const lockState = async (tasks: TaskRepository, image: ImageRecord, now: Date): Promise<LockState> => {
  const taskId = lockHolder(image);
  if (taskId === undefined) return { kind: 'free' };
  const task = await tasks.get(taskId);
  if (!task) {
    const age = now.getTime() - Date.parse(image.updated_at);
    return age >= MISSING_TASK_GRACE_MS
      ? { kind: 'stale', taskId, task: undefined }
      : { kind: 'live', taskId, remainingMs: MISSING_TASK_GRACE_MS - age };
  }
  const expiry = isTaskPending(task.status) ? 2 * LOCK_EXPIRY_MS : LOCK_EXPIRY_MS;
  const age = now.getTime() - Date.parse(task.updated_at);
  return age >= expiry
    ? { kind: 'stale', taskId, task }
    : { kind: 'live', taskId, remainingMs: expiry - age };
};

/** The image's properties with the lock set to `taskId`. */
export const withLock = (image: Pick<ImageRecord, 'properties'>, taskId: string): Record<string, string> => ({
  ...image.properties,
  [LOCK_PROPERTY]: taskId,
});

/** The image's properties without the lock. */
export const withoutLock = (image: Pick<ImageRecord, 'properties'>): Record<string, string> => {
  const { [LOCK_PROPERTY]: _lock, ...rest } = image.properties;
  return rest;
};
