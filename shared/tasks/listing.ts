/**
 * `GET /v2/tasks` (docs/api.md#tasks), as Glance's task deserializer and controller:
 *
 * - `status` must be a task status, `type` must be `import` (Glance's filter accepts nothing
 *   else), `sort_dir` is `asc`/`desc` (default `desc`), `sort_key` one of the task columns
 *   (default `created_at`), `marker` must look like a UUID and name an existing task, `limit` a
 *   non-negative integer (default 25, capped at 1000); every violation is a 400.
 * - The default order (`created_at`) is the index order, so pages are read lazily from the
 *   all-tasks partition; any other key reads the partition and sorts in memory.
 * - Expired tasks drop out; `next` is given when a page is full, or cut short by the response
 *   budget (`admit`, docs/api.md#response-size).
 */
import { BadRequest } from '#shared/errors';
import { isUuid } from '#shared/images/access';
import { TASK_STATUSES, type TaskStatus } from '#shared/status-rules';
import { createdSortKey } from '#shared/table';
import type { TaskRecord } from './model.ts';
import type { TaskRepository } from './repository.ts';
import { isExpired } from './view.ts';

export const TASK_SORT_KEYS = [
  'created_at',
  'updated_at',
  'id',
  'type',
  'status',
  'owner',
  'expires_at',
] as const;
export type TaskSortKey = (typeof TASK_SORT_KEYS)[number];

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 1000;

export interface ListTasksQuery {
  readonly status?: TaskStatus;
  readonly type?: 'import';
  readonly sortKey: TaskSortKey;
  readonly sortDir: 'asc' | 'desc';
  readonly marker?: string;
  readonly limit: number;
}

const single = (query: URLSearchParams, name: string): string | undefined => {
  const values = query.getAll(name);
  if (values.length > 1) throw new BadRequest(`Parameter '${name}' may be given only once.`);
  return values[0];
};

export const parseListTasksQuery = (query: URLSearchParams): ListTasksQuery => {
  const status = single(query, 'status');
  if (status !== undefined && status !== '' && !(TASK_STATUSES as readonly string[]).includes(status)) {
    throw new BadRequest(`Invalid status value: ${status}`);
  }
  const type = single(query, 'type');
  if (type !== undefined && type !== '' && type !== 'import')
    throw new BadRequest(`Invalid type value: ${type}`);
  const sortDir = single(query, 'sort_dir') ?? 'desc';
  if (sortDir !== 'asc' && sortDir !== 'desc') throw new BadRequest(`Invalid sort direction: ${sortDir}`);
  const sortKey = single(query, 'sort_key') ?? 'created_at';
  if (!(TASK_SORT_KEYS as readonly string[]).includes(sortKey))
    throw new BadRequest(`Invalid sort key: ${sortKey}`);
  const marker = single(query, 'marker');
  if (marker !== undefined && !isUuid(marker)) throw new BadRequest('Invalid marker format');
  const rawLimit = single(query, 'limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    if (!/^\s*[+-]?\d+\s*$/.test(rawLimit)) throw new BadRequest('limit param must be an integer');
    limit = Number(rawLimit);
    if (limit < 0) throw new BadRequest('limit param must be positive');
  }
  return {
    ...(status ? { status: status as TaskStatus } : {}),
    ...(type ? { type: 'import' as const } : {}),
    sortKey: sortKey as TaskSortKey,
    sortDir,
    ...(marker === undefined ? {} : { marker: marker.toLowerCase() }),
    limit: Math.min(limit, MAX_LIMIT),
  };
};

export interface TaskPage {
  readonly tasks: TaskRecord[];
  readonly nextMarker?: string;
}

const matches = (task: TaskRecord, query: ListTasksQuery, now: Date): boolean =>
  !isExpired(task, now) &&
  (query.status === undefined || task.status === query.status) &&
  (query.type === undefined || task.type === query.type);

/** Total order: the sort key, then created_at and id as Glance's tie-breakers, all in one direction. */
const compare = (a: TaskRecord, b: TaskRecord, query: ListTasksQuery): number => {
  const sign = query.sortDir === 'asc' ? 1 : -1;
  for (const key of [query.sortKey, 'created_at', 'id'] as const) {
    const left = a[key] ?? '';
    const right = b[key] ?? '';
    if (left !== right) return (left < right ? -1 : 1) * sign;
  }
  return 0;
};

/**
 * One page of tasks for an admin (the only caller the policy lets through). `admit` says whether
 * one more task still fits the response (it always admits the first).
 */
export const listTasks = async (
  repository: TaskRepository,
  query: ListTasksQuery,
  now = new Date(),
  admit: (task: TaskRecord) => boolean = () => true,
): Promise<TaskPage> => {
  let markerTask: TaskRecord | undefined;
  if (query.marker !== undefined) {
    markerTask = await repository.get(query.marker);
    if (!markerTask) throw new BadRequest(`Marker ${query.marker} could not be found.`);
  }
  if (query.limit === 0) return { tasks: [] };
  const descending = query.sortDir === 'desc';
  const page: TaskRecord[] = [];

  if (query.sortKey === 'created_at') {
    const after = markerTask ? createdSortKey(markerTask.created_at, markerTask.id) : undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const batch = await repository.queryAll({
        descending,
        after,
        limit: Math.max(query.limit, 50),
        startKey,
      });
      for (const task of batch.tasks) {
        if (!matches(task, query, now)) continue;
        if (!admit(task)) return cutShort(page);
        page.push(task);
        if (page.length === query.limit) return { tasks: page, nextMarker: task.id };
      }
      startKey = batch.lastKey;
    } while (startKey);
    return { tasks: page };
  }

  const all: TaskRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const batch = await repository.queryAll({ descending, limit: 500, startKey });
    all.push(...batch.tasks.filter((task) => matches(task, query, now)));
    startKey = batch.lastKey;
  } while (startKey);
  all.sort((a, b) => compare(a, b, query));
  const start = markerTask ? all.findIndex((task) => compare(task, markerTask, query) > 0) : 0;
  for (const task of start < 0 ? [] : all.slice(start, start + query.limit)) {
    if (!admit(task)) return cutShort(page);
    page.push(task);
  }
  const last = page.at(-1);
  return page.length === query.limit && last ? { tasks: page, nextMarker: last.id } : { tasks: page };
};

/** A page the response budget ended early: `next` continues after its last task. */
const cutShort = (page: TaskRecord[]): TaskPage => {
  const last = page.at(-1);
  return last ? { tasks: page, nextMarker: last.id } : { tasks: page };
};

/** `first` and `next` links: the original query without (then with) the marker, as Glance. */
export const taskPageLinks = (rawQuery: string, nextMarker: string | undefined) => {
  const params = new URLSearchParams(rawQuery);
  params.delete('marker');
  const first = params.toString();
  const links: { first: string; next?: string } = { first: first ? `/v2/tasks?${first}` : '/v2/tasks' };
  if (nextMarker !== undefined) {
    params.set('marker', nextMarker);
    links.next = `/v2/tasks?${params.toString()}`;
  }
  return links;
};
