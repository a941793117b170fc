import { describe, expect, it } from 'vitest';
import { createdSortKey } from '#shared/table';
import {
  DEFAULT_LIMIT,
  listTasks,
  MAX_LIMIT,
  parseListTasksQuery,
  taskPageLinks,
} from '#shared/tasks/listing';
import type { TaskRecord } from '#shared/tasks/model';
import type { TaskRepository } from '#shared/tasks/repository';

const parse = (query: string) => parseListTasksQuery(new URLSearchParams(query));

describe('GET /v2/tasks query', () => {
  it('defaults to created_at desc, 25 per page', () => {
    expect(parse('')).toEqual({ sortKey: 'created_at', sortDir: 'desc', limit: DEFAULT_LIMIT });
  });

  it('reads filters, marker, limit and order', () => {
    const marker = '0A1B2C3D-0000-4000-8000-000000000000';
    expect(
      parse(`status=failure&type=import&sort_key=updated_at&sort_dir=asc&marker=${marker}&limit=5`),
    ).toEqual({
      status: 'failure',
      type: 'import',
      sortKey: 'updated_at',
      sortDir: 'asc',
      marker: marker.toLowerCase(),
      limit: 5,
    });
  });

  it('caps the limit at 1000', () => {
    expect(parse('limit=5000').limit).toBe(MAX_LIMIT);
  });

  it.each([
    ['status=done', /Invalid status value: done/],
    ['type=api_image_import', /Invalid type value/],
    ['sort_dir=sideways', /Invalid sort direction/],
    ['sort_key=input', /Invalid sort key/],
    ['marker=12', /Invalid marker format/],
    ['limit=-3', /must be positive/],
    ['limit=3.5', /must be an integer/],
    ['status=pending&status=failure', /only once/],
  ])('refuses %s with 400', (query, message) => {
    expect(() => parse(query)).toThrow(message);
    try {
      parse(query);
    } catch (error) {
      expect((error as { status: number }).status).toBe(400);
    }
  });
});

describe('links', () => {
  it('keeps the query without the marker for first, and adds the next marker', () => {
    expect(taskPageLinks('', undefined)).toEqual({ first: '/v2/tasks' });
    expect(taskPageLinks('limit=2&marker=a&status=success', 'b')).toEqual({
      first: '/v2/tasks?limit=2&status=success',
      next: '/v2/tasks?limit=2&status=success&marker=b',
    });
  });
});

describe('listTasks under a response budget', () => {
  const task = (i: number): TaskRecord => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    type: 'import',
    status: 'success',
    input: null,
    result: null,
    message: '',
    owner: 'p',
    expires_at: null,
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    updated_at: new Date(Date.UTC(2026, 0, 1, 0, 0, 60 - i)).toISOString(),
    image_id: null,
    request_id: null,
    user_id: null,
    version: 1,
  });
  const all = Array.from({ length: 10 }, (_, i) => task(i));
  const position = (t: TaskRecord) => createdSortKey(t.created_at, t.id);
  /** The all-tasks index partition, two tasks per page. */
  const repository = {
    get: async (id: string) => all.find((t) => t.id === id),
    queryAll: async (input: { descending: boolean; after?: string; startKey?: Record<string, unknown> }) => {
      const ordered = [...all].sort(
        (a, b) => position(a).localeCompare(position(b)) * (input.descending ? -1 : 1),
      );
      const after = input.after;
      const rest =
        after === undefined
          ? ordered
          : ordered.filter((t) => (input.descending ? position(t) < after : position(t) > after));
      const offset = Number(input.startKey?.offset ?? 0);
      const tasks = rest.slice(offset, offset + 2);
      return { tasks, ...(offset + 2 < rest.length ? { lastKey: { offset: offset + 2 } } : {}) };
    },
  } as unknown as TaskRepository;

  it.each(['', 'sort_key=updated_at'])(
    'cuts a page short with a marker and resumes after it (%s)',
    async (order) => {
      const query = parse(`limit=1000&${order}`);
      const seen: string[] = [];
      let marker: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        let room = 3;
        const page = await listTasks(
          repository,
          { ...query, ...(marker ? { marker } : {}) },
          new Date(),
          () => room-- > 0,
        );
        seen.push(...page.tasks.map((t) => t.id));
        if (page.tasks.length === 3) expect(page.nextMarker).toBe(page.tasks[2]?.id);
        if (!page.nextMarker) break;
        marker = page.nextMarker;
      }
      const full = await listTasks(repository, query);
      expect(seen).toEqual(full.tasks.map((t) => t.id));
      expect(seen).toHaveLength(10);
    },
  );
});
