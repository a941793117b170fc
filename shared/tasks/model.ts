/**
 * The stored task record (docs/lifecycle.md#task-record). Status changes go through `decideTask` in
 * shared/status-rules.ts and are written conditionally on status and version, like images.
 */
import type { TaskStatus } from '#shared/status-rules';

/** docs/lifecycle.md#task-types; `location_import` is created by `POST /v2/images/{id}/locations` (docs/locations.md). */
export const TASK_TYPES = ['import', 'api_image_import', 'location_import'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export interface TaskRecord {
  id: string;
  type: TaskType;
  status: TaskStatus;
  /**
   * `api_image_import`: `{image_id, import_req, backend}`; `import`: the caller's input; `location_import`:
   * `{image_id, loc_url, validation_data}`.
   */
  input: Record<string, unknown> | null;
  /** `{"image_id": ...}` on success. */
  result: Record<string, unknown> | null;
  /** `""` unless set; the failure reason on failure. */
  message: string;
  owner: string;
  /** Set on entering success or failure: now + task time to live; null before. */
  expires_at: string | null;
  /** Stored with milliseconds; rendered without. */
  created_at: string;
  updated_at: string;
  image_id: string | null;
  request_id: string | null;
  user_id: string | null;
  /** Optimistic-concurrency counter; every write is conditional on it. */
  version: number;
  /**
   * Name of the workflow execution running the task, recorded when it starts processing; only
   * that execution may move it on (a console re-run meanwhile is refused). Not rendered.
   */
  execution?: string;
  /**
   * Epoch seconds of `expires_at`, for DynamoDB TTL (attribute `ttl`): once the table has TTL
   * enabled on it, expired tasks are removed by DynamoDB itself. Absent while the task runs.
   */
  ttl?: number;
}

/** Where an import gets its data. */
export type ImportSource =
  | { readonly method: 'glance-direct' }
  | { readonly method: 'web-download'; readonly uri: string }
  | {
      readonly method: 'location';
      readonly url: string;
      /** The sha512 the caller vouched for (`validation_data.os_hash_value`), if any. */
      readonly osHashValue: string | undefined;
    };

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The data source of an import task, read from its input: `api_image_import` carries the
 * import request body, the legacy `import` task an `import_from` URL. Undefined for anything
 * else (a task the workflow cannot run).
 */
export const importSourceOf = (task: Pick<TaskRecord, 'type' | 'input'>): ImportSource | undefined => {
  const input = task.input;
  if (!isObject(input)) return undefined;
  if (task.type === 'location_import') {
    if (typeof input.loc_url !== 'string') return undefined;
    const validation = isObject(input.validation_data) ? input.validation_data : {};
    const hash = validation.os_hash_value;
    return {
      method: 'location',
      url: input.loc_url,
      osHashValue: typeof hash === 'string' ? hash : undefined,
    };
  }
  if (task.type === 'import') {
    return typeof input.import_from === 'string'
      ? { method: 'web-download', uri: input.import_from }
      : undefined;
  }
  if (task.type !== 'api_image_import') return undefined;
  const method = isObject(input.import_req) ? input.import_req.method : undefined;
  if (!isObject(method)) return undefined;
  if (method.name === 'glance-direct') return { method: 'glance-direct' };
  if (method.name === 'web-download' && typeof method.uri === 'string') {
    return { method: 'web-download', uri: method.uri };
  }
  return undefined;
};
