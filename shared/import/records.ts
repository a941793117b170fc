/**
 * Record operations the import API and the workflow share: new task records, failing a task and
 * releasing a lock. Each is a conditional write retried on a fresh read when it loses a race,
 * and each is idempotent (failing a finished task or releasing a lock held by someone else does
 * nothing), so every caller may repeat it safely.
 */
import type { ImageRepository } from '#shared/images/repository';
import { ImageConflict } from '#shared/images/repository';
import { decideTask, isTerminalTaskStatus, TASK_STATUS } from '#shared/status-rules';
import type { TaskRecord, TaskType } from '#shared/tasks/model';
import { TaskConflict, type TaskRepository } from '#shared/tasks/repository';
import { lockHolder, withoutLock } from './lock.ts';

const ATTEMPTS = 5;

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
  let task = typeof taskOrId === 'string' ? await tasks.get(taskOrId) : taskOrId;
  for (let attempt = 1; task; attempt++) {
    if (isTerminalTaskStatus(task.status)) return task;
    try {
      return await tasks.transition(task, decideTask(task, 'fail'), {
        set: { message: clip(message) },
        timeToLiveHours,
        now,
      });
    } catch (error) {
      if (!(error instanceof TaskConflict) || attempt >= ATTEMPTS) throw error;
      task = error.current;
    }
  }
  return undefined;
};

/** Drops the lock if `taskId` still holds it; a no-op otherwise. */
export const releaseLock = async (
  images: ImageRepository,
  imageId: string,
  taskId: string,
): Promise<void> => {
  for (let attempt = 1; ; attempt++) {
    const image = await images.get(imageId);
    if (!image || lockHolder(image) !== taskId) return;
    try {
      await images.update(image, { properties: withoutLock(image) });
      return;
    } catch (error) {
      if (!(error instanceof ImageConflict) || attempt >= ATTEMPTS) throw error;
    }
  }
};
