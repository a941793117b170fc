import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMIT, MAX_LIMIT, parseListTasksQuery, taskPageLinks } from '#shared/tasks/listing';

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
