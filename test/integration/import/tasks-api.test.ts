/**
 * The task and import APIs: `GET/POST /v2/tasks`, `GET /v2/tasks/{id}`, `DELETE` (405),
 * `GET /v2/images/{id}/tasks`, the legacy `import` task, every bad input of `POST /import`
 * (clear 4xx, no task, no status change), the import lock (concurrency, stale locks).
 */
import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { newTaskRecord } from '#shared/import/records';
import { taskKey } from '#shared/table';
import {
  createImage,
  historyOf,
  imageTasks,
  importImage,
  keysUnder,
  randomBytesOf,
  serveBytes,
  sha512,
  showImage,
  stageDirect,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const data = randomBytesOf(20_000);
const { stack, files } = useImportStack({
  // The filter is configurable like Glance's [import_filtering_opts].
  env: { IMPORT_DISALLOWED_PORTS: '25', IMPORT_DISALLOWED_HOSTS: 'blocked.example' },
  routes: { '/disk.img': serveBytes(data) },
});

const expectError = (response: { status: number; json: unknown }, status: number) => {
  expect(response.status).toBe(status);
  expect(response.json).toMatchObject({ error: { code: status, message: expect.any(String) } });
};

const webDownload = (uri: string) => ({ method: { name: 'web-download', uri } });

describe('POST /v2/images/{id}/import: bad input', () => {
  it('copy-image is not offered by GET /v2/info/import', async () => {
    const info = await stack.api('GET', '/v2/info/import', { token: stack.owner });
    expect(info.json['import-methods'].value).toEqual(['glance-direct', 'web-download']);
  });

  it.each<[string, number, unknown, 'queued' | 'uploading']>([
    ['malformed JSON', 400, '{"method": ', 'queued'],
    ['a body that is not an object', 400, '[]', 'queued'],
    ['no method', 400, {}, 'queued'],
    ['a method that is not an object', 400, { method: 'web-download' }, 'queued'],
    ['no method name', 400, { method: {} }, 'queued'],
    ['an unknown method', 400, { method: { name: 'ftp-download' } }, 'queued'],
    [
      'copy-image (not enabled with one store)',
      400,
      { method: { name: 'copy-image' }, stores: ['default'] },
      'queued',
    ],
    ['glance-download (not enabled)', 400, { method: { name: 'glance-download' } }, 'queued'],
    [
      'a non-boolean all_stores_must_succeed',
      400,
      { method: { name: 'glance-direct' }, all_stores_must_succeed: 'yes' },
      'uploading',
    ],
    ['a non-boolean all_stores', 400, { method: { name: 'glance-direct' }, all_stores: 1 }, 'uploading'],
    [
      'all_stores_must_succeed false with one store',
      400,
      { method: { name: 'glance-direct' }, all_stores_must_succeed: false },
      'uploading',
    ],
    ['web-download without uri', 400, { method: { name: 'web-download' } }, 'queued'],
    ['a disallowed scheme', 400, webDownload('ftp://127.0.0.1/disk.img'), 'queued'],
    ['a file: URI', 400, webDownload('file:///etc/passwd'), 'queued'],
    ['a private address', 400, webDownload('http://10.0.0.8/disk.img'), 'queued'],
    [
      'the metadata endpoint (link-local)',
      400,
      webDownload('http://169.254.169.254/latest/meta-data/'),
      'queued',
    ],
    ['an IPv6 unique-local address', 400, webDownload('http://[fd00:ec2::254]/x'), 'queued'],
    ['a disallowed host', 400, webDownload('http://blocked.example/disk.img'), 'queued'],
    ['a disallowed port', 400, webDownload('http://127.0.0.1:25/disk.img'), 'queued'],
    ['credentials in the URI', 400, webDownload('http://user:pw@127.0.0.1/disk.img'), 'queued'],
    ['glance-direct on a queued image', 409, { method: { name: 'glance-direct' } }, 'queued'],
    ['web-download on an uploading image', 409, webDownload('http://127.0.0.1/disk.img'), 'uploading'],
  ])('refuses %s with %i, creates no task, changes no status', async (_, status, body, from) => {
    const image = await createImage(stack);
    if (from === 'uploading') await stageDirect(stack, image.id, data);
    const response = await stack.api('POST', `/v2/images/${image.id}/import`, {
      token: stack.owner,
      body,
      headers: { 'content-type': 'application/json' },
    });
    expectError(response, status);
    expect(await imageTasks(stack, image.id)).toEqual([]);
    const shown = await showImage(stack, image.id);
    expect(shown.status).toBe(from);
    expect(shown.os_glance_import_task).toBeUndefined();
  });

  it('answers 409 when a format is missing, 404 for unknown or invisible images, 403 for a reader', async () => {
    const noContainer = await createImage(stack, { container_format: null });
    expectError(await importImage(stack, noContainer.id, webDownload(files.url('/disk.img'))), 409);
    const noDisk = await createImage(stack, { disk_format: null });
    expectError(await importImage(stack, noDisk.id, webDownload(files.url('/disk.img'))), 409);
    expectError(await importImage(stack, randomUUID(), webDownload(files.url('/disk.img'))), 404);
    expectError(await importImage(stack, 'not-a-uuid', webDownload(files.url('/disk.img'))), 404);
    const privateImage = await createImage(stack, { visibility: 'private' });
    expectError(
      await importImage(stack, privateImage.id, webDownload(files.url('/disk.img')), stack.other),
      404,
    );
    // A community image is visible to other projects, who may not modify it: 403.
    const community = await createImage(stack, { visibility: 'community' });
    expectError(
      await importImage(stack, community.id, webDownload(files.url('/disk.img')), stack.other),
      403,
    );
    const reader = await stack.tokenFor({ project: 'p-own', roles: ['reader'] });
    expectError(await importImage(stack, community.id, webDownload(files.url('/disk.img')), reader), 403);
    for (const id of [noContainer.id, noDisk.id, privateImage.id, community.id]) {
      expect(await imageTasks(stack, id, stack.admin)).toEqual([]);
    }
  });

  it('checks the status (409) before the policy (403), as Glance does', async () => {
    const community = await createImage(stack, { visibility: 'community' });
    expectError(
      await importImage(stack, community.id, { method: { name: 'glance-direct' } }, stack.other),
      409,
    );
  });
});

describe('the import lock', () => {
  it('lets exactly one of two concurrent imports through (the other gets 409)', async () => {
    const image = await createImage(stack);
    const body = webDownload(files.url('/disk.img'));
    const responses = await Promise.all([
      importImage(stack, image.id, body),
      importImage(stack, image.id, body),
    ]);
    expect(responses.map((r) => r.status).sort()).toEqual([202, 409]);
    await waitForImport(stack, image.id);
    expect(await imageTasks(stack, image.id)).toHaveLength(1);
    expect(await showImage(stack, image.id)).toMatchObject({ status: 'active', os_hash_value: sha512(data) });
  });

  /** Puts a lock held by `taskId` on a queued image, the image last written `imageAgeMs` ago. */
  const lockImage = async (taskId: string, imageAgeMs = 0) => {
    const created = await createImage(stack);
    const image = await stack.images.get(created.id);
    if (!image) throw new Error('no image');
    await stack.images.update(
      image,
      { properties: { ...image.properties, os_glance_import_task: taskId } },
      new Date(Date.now() - imageAgeMs),
    );
    return created.id;
  };
  /** A queued image locked by a task in `status`, last updated `ageMinutes` ago. */
  const lockedByTask = async (status: 'pending' | 'processing', ageMinutes: number) => {
    const id = randomUUID();
    const imageId = await lockImage(id);
    const task = {
      ...newTaskRecord({
        id,
        type: 'api_image_import',
        input: { image_id: imageId, import_req: webDownload('http://x/'), backend: null },
        owner: 'p-own',
        imageId,
        userId: 'u',
        requestId: undefined,
        now: new Date(Date.now() - ageMinutes * 60_000),
      }),
      status,
    };
    await stack.tasks.create(task);
    return { imageId, task };
  };

  it('refuses an import while a live task holds the lock (409)', async () => {
    const { imageId, task } = await lockedByTask('processing', 59);
    const response = await importImage(stack, imageId, webDownload(files.url('/disk.img')));
    expectError(response, 409);
    expect(response.json.error.message).toMatch(/has active task/);
    // Finish the made-up task, so the suite's "nothing left processing" check holds.
    await stack.tasks.transition(
      task,
      { trigger: 'fail', from: 'processing', to: 'failure' },
      { timeToLiveHours: 48 },
    );
  });

  it.each<[string, 'pending' | 'processing', number]>([
    ['a processing task idle for 60 minutes', 'processing', 61],
    ['a pending task idle for 120 minutes', 'pending', 121],
  ])('busts a stale lock of %s: the old task fails "Expired lock preempted"', async (_, status, age) => {
    const { imageId, task: stale } = await lockedByTask(status, age);
    expect((await importImage(stack, imageId, webDownload(files.url('/disk.img')))).status).toBe(202);
    expect(await stack.tasks.get(stale.id)).toMatchObject({
      status: 'failure',
      message: 'Expired lock preempted',
    });
    const { task } = await waitForImport(stack, imageId);
    expect(task.status).toBe('success');
  });

  it('keeps the lock of a pending task idle for 61 minutes (pending locks last 120)', async () => {
    const { imageId } = await lockedByTask('pending', 61);
    expectError(await importImage(stack, imageId, webDownload(files.url('/disk.img'))), 409);
  });

  it('treats a lock whose task does not exist as stale once the image is 5 minutes old, not before', async () => {
    const fresh = await lockImage(randomUUID());
    expectError(await importImage(stack, fresh, webDownload(files.url('/disk.img'))), 409);
    const old = await lockImage(randomUUID(), 6 * 60_000);
    expect((await importImage(stack, old, webDownload(files.url('/disk.img')))).status).toBe(202);
    expect((await waitForImport(stack, old)).task.status).toBe('success');
  });
});

describe('tasks API', () => {
  let finished: { id: string; image_id: string };

  beforeAll(async () => {
    const image = await createImage(stack);
    await importImage(stack, image.id, webDownload(files.url('/disk.img')));
    const { task } = await waitForImport(stack, image.id);
    finished = task;
  });

  it('shows a task to an admin with input, result and message', async () => {
    const response = await stack.api('GET', `/v2/tasks/${finished.id}`, { token: stack.admin });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      id: finished.id,
      type: 'api_image_import',
      status: 'success',
      owner: 'p-own',
      image_id: finished.image_id,
      request_id: expect.any(String),
      user_id: 'user-p-own',
      input: { image_id: finished.image_id, import_req: webDownload(files.url('/disk.img')), backend: null },
      result: { image_id: finished.image_id },
      message: '',
      expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
      self: `/v2/tasks/${finished.id}`,
      schema: '/v2/schemas/task',
    });
  });

  it('is admin only (tasks_api_access): 403 for members, 404 for unknown ids', async () => {
    expectError(await stack.api('GET', `/v2/tasks/${finished.id}`, { token: stack.owner }), 403);
    expectError(await stack.api('GET', '/v2/tasks', { token: stack.owner }), 403);
    expectError(await stack.api('POST', '/v2/tasks', { token: stack.owner, body: {} }), 403);
    expectError(await stack.api('GET', `/v2/tasks/${randomUUID()}`, { token: stack.admin }), 404);
    expectError(await stack.api('GET', '/v2/tasks/nope', { token: stack.admin }), 404);
  });

  it('answers DELETE with 405 and Allow: GET', async () => {
    const response = await stack.api('DELETE', `/v2/tasks/${finished.id}`, { token: stack.admin });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });

  it('lists tasks without input, result and message, newest first, with paging links', async () => {
    const all = await stack.api('GET', '/v2/tasks?limit=1000', { token: stack.admin });
    expect(all.status).toBe(200);
    expect(all.json).toMatchObject({ first: '/v2/tasks?limit=1000', schema: '/v2/schemas/tasks' });
    const listed = all.json.tasks as Array<Record<string, unknown> & { id: string; created_at: string }>;
    expect(listed.length).toBeGreaterThan(2);
    for (const task of listed) {
      expect(task).not.toHaveProperty('input');
      expect(task).not.toHaveProperty('result');
      expect(task).not.toHaveProperty('message');
      expect(task).toMatchObject({ self: `/v2/tasks/${task.id}`, schema: '/v2/schemas/task' });
    }
    const created = listed.map((task) => task.created_at);
    expect([...created].sort().reverse()).toEqual(created);

    const first = await stack.api('GET', '/v2/tasks?limit=2', { token: stack.admin });
    expect(first.json.tasks.map((t: { id: string }) => t.id)).toEqual(listed.slice(0, 2).map((t) => t.id));
    expect(first.json.next).toBe(`/v2/tasks?limit=2&marker=${listed[1]?.id}`);
    const second = await stack.api('GET', first.json.next, { token: stack.admin });
    expect(second.json.tasks.map((t: { id: string }) => t.id)).toEqual(listed.slice(2, 4).map((t) => t.id));

    const ascending = await stack.api('GET', '/v2/tasks?limit=1000&sort_dir=asc', { token: stack.admin });
    expect(ascending.json.tasks.map((t: { id: string }) => t.id)).toEqual(
      [...listed].reverse().map((t) => t.id),
    );
    const byStatus = await stack.api('GET', '/v2/tasks?limit=1000&status=success', { token: stack.admin });
    expect(byStatus.json.tasks.every((t: { status: string }) => t.status === 'success')).toBe(true);
    expect(byStatus.json.tasks.map((t: { id: string }) => t.id)).toContain(finished.id);
  });

  it.each([
    ['status=bogus'],
    ['type=api_image_import'],
    ['sort_dir=up'],
    ['sort_key=message'],
    ['marker=not-a-uuid'],
    [`marker=${randomUUID()}`],
    ['limit=-1'],
    ['limit=ten'],
  ])('refuses ?%s with 400', async (query) => {
    expectError(await stack.api('GET', `/v2/tasks?${query}`, { token: stack.admin }), 400);
  });

  it('drops expired tasks out of the listings', async () => {
    const { createDocumentClient } = await import('#shared/runtime');
    const doc = createDocumentClient(stack.dynamoEndpoint);
    await doc.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: taskKey(finished.id),
        UpdateExpression: 'SET expires_at = :past',
        ExpressionAttributeValues: { ':past': new Date(Date.now() - 1000).toISOString() },
      }),
    );
    const listed = await stack.api('GET', '/v2/tasks?limit=1000', { token: stack.admin });
    expect(listed.json.tasks.map((t: { id: string }) => t.id)).not.toContain(finished.id);
    expect(await imageTasks(stack, finished.image_id, stack.admin)).toEqual([]);
  });

  it("lists an image's tasks to whoever sees the image, as raw records", async () => {
    const image = await createImage(stack, { visibility: 'private' });
    await importImage(stack, image.id, webDownload(files.url('/disk.img')));
    await waitForImport(stack, image.id);
    const [task] = await imageTasks(stack, image.id);
    expect(task).toMatchObject({
      type: 'api_image_import',
      status: 'success',
      owner: 'p-own',
      image_id: image.id,
      deleted: false,
      deleted_at: null,
      result: { image_id: image.id },
      message: '',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
    });
    expect(await imageTasks(stack, image.id, stack.admin)).toHaveLength(1);
    expectError(await stack.api('GET', `/v2/images/${image.id}/tasks`, { token: stack.other }), 404);
  });
});

describe('POST /v2/tasks (legacy import task)', () => {
  const legacy = (importFrom: string, properties: Record<string, unknown> = {}) => ({
    type: 'import',
    input: {
      import_from: importFrom,
      // The data is raw: declared as anything else it would be refused (docs/image-formats.md).
      import_from_format: 'raw',
      image_properties: { name: 'legacy', container_format: 'bare', ...properties },
    },
  });

  it('creates a new image and imports the URL into it', async () => {
    const response = await stack.api('POST', '/v2/tasks', {
      token: stack.admin,
      body: legacy(files.url('/disk.img')),
    });
    expect(response.status).toBe(201);
    const task = response.json;
    expect(response.headers.get('location')).toBe(`/v2/tasks/${task.id}`);
    expect(task).toMatchObject({
      type: 'import',
      status: 'pending',
      owner: 'p-admin',
      input: legacy(files.url('/disk.img')).input,
    });
    const execution = await stack.stepFunctions.waitFor(task.id);
    expect(execution.status).toBe('SUCCEEDED');
    const done = (await stack.api('GET', `/v2/tasks/${task.id}`, { token: stack.admin })).json;
    expect(done).toMatchObject({ status: 'success', result: { image_id: task.image_id } });
    expect(await showImage(stack, task.image_id)).toMatchObject({
      name: 'legacy',
      disk_format: 'raw',
      container_format: 'bare',
      owner: 'p-admin',
      status: 'active',
      os_hash_value: sha512(data),
    });
    expect(await historyOf(stack, task.image_id)).toEqual(['queued', 'importing', 'active']);
    const filtered = await stack.api('GET', '/v2/tasks?type=import&limit=1000', { token: stack.admin });
    expect(filtered.json.tasks.map((t: { id: string }) => t.id)).toContain(task.id);
    expect(filtered.json.tasks.every((t: { type: string }) => t.type === 'import')).toBe(true);
  });

  it('kills the image it created when the import fails', async () => {
    const response = await stack.api('POST', '/v2/tasks', {
      token: stack.admin,
      body: legacy(files.url('/gone.img')),
    });
    expect(response.status).toBe(201);
    await stack.stepFunctions.waitFor(response.json.id);
    const task = (await stack.api('GET', `/v2/tasks/${response.json.id}`, { token: stack.admin })).json;
    expect(task).toMatchObject({
      status: 'failure',
      message: expect.stringMatching(/^Import failed at step Fetch: .*HTTP 404/),
    });
    expect(await showImage(stack, task.image_id)).toMatchObject({
      status: 'killed',
      os_glance_failure_reason: task.message,
    });
    expect(await keysUnder(stack, `staging/${task.image_id}/`)).toEqual([]);
  });

  it.each<[string, unknown, number]>([
    ['no type', { input: {} }, 400],
    ['no input', { type: 'import' }, 400],
    ['an unknown type', { type: 'convert', input: {} }, 400],
    ['an api_image_import task (would bypass the lock)', { type: 'api_image_import', input: {} }, 400],
    ['an input that is not an object', { type: 'import', input: 'x' }, 400],
    ['no import_from', { type: 'import', input: { image_properties: {} } }, 400],
    ['no image_properties', { type: 'import', input: { import_from: 'http://127.0.0.1/x' } }, 400],
    ['a refused import_from', legacy('http://10.0.0.1/x.img'), 400],
    [
      'an unknown import_from_format',
      { type: 'import', input: { ...legacy('http://127.0.0.1/x').input, import_from_format: 'zip' } },
      400,
    ],
    ['invalid image properties', legacy('http://127.0.0.1/x', { min_ram: -1 }), 400],
    ['reserved image properties', legacy('http://127.0.0.1/x', { os_glance_import_task: 'x' }), 403],
  ])('refuses %s (%#) and creates nothing', async (_, body, status) => {
    const before = await stack.api('GET', '/v2/tasks?limit=1000', { token: stack.admin });
    const images = await stack.api('GET', '/v2/images?limit=1000', { token: stack.admin });
    expectError(await stack.api('POST', '/v2/tasks', { token: stack.admin, body }), status);
    expect((await stack.api('GET', '/v2/tasks?limit=1000', { token: stack.admin })).json.tasks).toHaveLength(
      before.json.tasks.length,
    );
    expect(
      (await stack.api('GET', '/v2/images?limit=1000', { token: stack.admin })).json.images,
    ).toHaveLength(images.json.images.length);
  });
});
