/**
 * Record operations the import API and the workflow share: new task records, failing a task and
 * releasing a lock. Each is a conditional write retried on the fresh record when it loses a race
 * (shared/retry.ts),
 * and each is idempotent (failing a finished task or releasing a lock held by someone else does
 * nothing), so every caller may repeat it safely.
 */
import type { ImageRepository } from '#shared/images/repository';
import { retryOnConflict } from '#shared/retry';
import { decideTask, isImporting, isTerminalTaskStatus, TASK_STATUS } from '#shared/status-rules';
import type { TaskRecord, TaskType } from '#shared/tasks/model';
import type { TaskConflict, TaskRepository } from '#shared/tasks/repository';
import { lockHolder, withoutLock } from './lock.ts';

/** Longest task `message` kept (Glance's column is TEXT; ours is bounded to keep items small). */
export const MAX_MESSAGE_LENGTH = 2000;
export const clip = (message: string): string =>
  message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;

export const newTaskRecord = (fields: {
  id: string;
  type: TaskType;
  input: Record<string, unknown>;
  owner: string;
  imageId: string;
  userId: string;
  requestId: string | undefined;
  now: Date;
}): TaskRecord => {
  const at = fields.now.toISOString();
  return {
    id: fields.id,
    type: fields.type,
    status: TASK_STATUS.pending,
    input: fields.input,
    result: null,
    message: '',
    owner: fields.owner,
    expires_at: null,
    created_at: at,
    updated_at: at,
    image_id: fields.imageId,
    request_id: fields.requestId || null,
    user_id: fields.userId || null,
    version: 1,
  };
};

/** Fails a task that is not finished yet; returns it as it ends up (or undefined if it is gone). */
export const failTask = async (
  tasks: TaskRepository,
  taskOrId: TaskRecord | string,
  message: string,
  timeToLiveHours: number,
  now?: Date,
): Promise<TaskRecord | undefined> => {
  const first = typeof taskOrId === 'string' ? await tasks.get(taskOrId) : taskOrId;
  return retryOnConflict<TaskRecord | undefined, TaskConflict>(async (previous) => {
    const task = previous ? previous.current : first;
    if (!task || isTerminalTaskStatus(task.status)) return task;
    return tasks.transition(task, decideTask(task, 'fail'), {
      set: { message: clip(message) },
      timeToLiveHours,
      now,
    });
  });
};

/**
 * Drops the lock of an import whose workflow the API could not start, if `taskId` still holds it; a
 * no-op otherwise. An image the workflow took (`importing`: StartExecution started it after all and
 * only its answer was lost) keeps the lock: that execution's failure branch, or the backstop when
 * it ends, gives the image back with it (docs/import-workflow.md#import-lock).
 */
export const releaseLock = async (images: ImageRepository, imageId: string, taskId: string): Promise<void> =>
  retryOnConflict(async () => {
    const image = await images.get(imageId);
    if (!image || lockHolder(image) !== taskId || isImporting(image.status)) return;
    await images.update(image, { properties: withoutLock(image) });
  });
