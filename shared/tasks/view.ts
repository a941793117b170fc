/**
 * The ways a task is rendered (docs/lifecycle.md#task-record, docs/api.md#tasks), as Glance's task controllers do:
 *
 * - `taskView`: `GET /v2/tasks/{id}` and `POST /v2/tasks`; `expires_at` only once set, `image_id`,
 *   `request_id`, `user_id` only when not empty; timestamps `YYYY-MM-DDThh:mm:ssZ`.
 * - `taskStubView`: `GET /v2/tasks` entries, without `input`, `result` and `message`.
 * - `imageTaskView`: `GET /v2/images/{id}/tasks`, the raw record with microsecond timestamps and
 *   no zone suffix, `deleted`/`deleted_at` included.
 */
import { glanceTime } from '#shared/images/view';
import type { TaskRecord } from './model.ts';

export type TaskView = Record<string, unknown>;

const optional = (task: TaskRecord): TaskView => ({
  ...(task.image_id ? { image_id: task.image_id } : {}),
  ...(task.request_id ? { request_id: task.request_id } : {}),
  ...(task.user_id ? { user_id: task.user_id } : {}),
});

const common = (task: TaskRecord): TaskView => ({
  id: task.id,
  type: task.type,
  status: task.status,
  owner: task.owner,
  ...optional(task),
  ...(task.expires_at ? { expires_at: glanceTime(task.expires_at) } : {}),
  created_at: glanceTime(task.created_at),
  updated_at: glanceTime(task.updated_at),
  self: `/v2/tasks/${task.id}`,
  schema: '/v2/schemas/task',
});

export const taskView = (task: TaskRecord): TaskView => ({
  ...common(task),
  input: task.input,
  result: task.result,
  message: task.message,
});

export const taskStubView = (task: TaskRecord): TaskView => common(task);

/** `2024-05-01T12:00:00.123Z` → `2024-05-01T12:00:00.123000` (Python's isoformat of a naive UTC time). */
export const rawTime = (iso: string | null): string | null => {
  if (iso === null) return null;
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?/.exec(iso);
  if (!match) return iso;
  return `${match[1]}.${(match[2] ?? '').padEnd(6, '0').slice(0, 6)}`;
};

export const imageTaskView = (task: TaskRecord): TaskView => ({
  id: task.id,
  type: task.type,
  status: task.status,
  owner: task.owner,
  expires_at: rawTime(task.expires_at),
  created_at: rawTime(task.created_at),
  updated_at: rawTime(task.updated_at),
  deleted_at: null,
  deleted: false,
  image_id: task.image_id,
  request_id: task.request_id,
  user_id: task.user_id,
  input: task.input,
  result: task.result,
  message: task.message,
});

/** Expired tasks drop out of every listing (docs/lifecycle.md#task-record). */
export const isExpired = (task: Pick<TaskRecord, 'expires_at'>, now: Date): boolean =>
  task.expires_at !== null && Date.parse(task.expires_at) <= now.getTime();
