import { describe, expect, it } from 'vitest';
import { newTaskRecord } from '#shared/import/records';
import { importSourceOf, type TaskRecord } from '#shared/tasks/model';
import { imageTaskView, isExpired, rawTime, taskStubView, taskView } from '#shared/tasks/view';

const task = (overrides: Partial<TaskRecord> = {}): TaskRecord => ({
  ...newTaskRecord({
    id: '11111111-2222-4333-8444-555555555555',
    type: 'api_image_import',
    input: { image_id: 'img', import_req: { method: { name: 'glance-direct' } }, backend: null },
    owner: 'p1',
    imageId: 'img',
    userId: 'u1',
    requestId: 'req-1',
    now: new Date('2026-01-02T03:04:05.678Z'),
  }),
  ...overrides,
});

describe('task views', () => {
  it('renders the Glance task entity; expires_at only once set', () => {
    expect(taskView(task())).toEqual({
      id: '11111111-2222-4333-8444-555555555555',
      type: 'api_image_import',
      status: 'pending',
      owner: 'p1',
      image_id: 'img',
      request_id: 'req-1',
      user_id: 'u1',
      created_at: '2026-01-02T03:04:05Z',
      updated_at: '2026-01-02T03:04:05Z',
      self: '/v2/tasks/11111111-2222-4333-8444-555555555555',
      schema: '/v2/schemas/task',
      input: { image_id: 'img', import_req: { method: { name: 'glance-direct' } }, backend: null },
      result: null,
      message: '',
    });
    expect(taskView(task({ expires_at: '2026-01-04T03:04:05.678Z' })).expires_at).toBe(
      '2026-01-04T03:04:05Z',
    );
  });

  it('omits empty image_id, request_id and user_id', () => {
    const view = taskView(task({ image_id: null, request_id: null, user_id: null }));
    expect(view).not.toHaveProperty('image_id');
    expect(view).not.toHaveProperty('request_id');
    expect(view).not.toHaveProperty('user_id');
  });

  it('leaves input, result and message out of list entries', () => {
    const stub = taskStubView(task());
    expect(stub).not.toHaveProperty('input');
    expect(stub).not.toHaveProperty('result');
    expect(stub).not.toHaveProperty('message');
  });

  it('renders image tasks as raw records with microseconds and no zone', () => {
    expect(imageTaskView(task())).toMatchObject({
      created_at: '2026-01-02T03:04:05.678000',
      expires_at: null,
      deleted: false,
      deleted_at: null,
      image_id: 'img',
      message: '',
    });
    expect(rawTime('2026-01-02T03:04:05Z')).toBe('2026-01-02T03:04:05.000000');
  });

  it('knows when a task expired', () => {
    const now = new Date('2026-01-05T00:00:00Z');
    expect(isExpired(task(), now)).toBe(false);
    expect(isExpired(task({ expires_at: '2026-01-04T00:00:00Z' }), now)).toBe(true);
    expect(isExpired(task({ expires_at: '2026-01-06T00:00:00Z' }), now)).toBe(false);
  });
});

describe('import source of a task', () => {
  it('reads the method of api_image_import and import_from of legacy import tasks', () => {
    expect(importSourceOf(task())).toEqual({ method: 'glance-direct' });
    expect(
      importSourceOf(
        task({ input: { import_req: { method: { name: 'web-download', uri: 'http://x/y' } } } }),
      ),
    ).toEqual({ method: 'web-download', uri: 'http://x/y' });
    expect(importSourceOf(task({ type: 'import', input: { import_from: 'http://x/y' } }))).toEqual({
      method: 'web-download',
      uri: 'http://x/y',
    });
  });

  it('has none for anything the workflow cannot run', () => {
    expect(importSourceOf(task({ input: null }))).toBeUndefined();
    expect(
      importSourceOf(task({ input: { import_req: { method: { name: 'copy-image' } } } })),
    ).toBeUndefined();
    expect(
      importSourceOf(task({ input: { import_req: { method: { name: 'web-download' } } } })),
    ).toBeUndefined();
    expect(importSourceOf(task({ type: 'location_import' }))).toBeUndefined();
  });
});
