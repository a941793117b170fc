/**
 * Hostile JSON over HTTP (docs/api.md#request-body-limits): property names that are special to
 * JavaScript objects round-trip exactly through create, PATCH, list, show and tasks; bodies nested
 * far too deep or too large are a 400 in Glance's shape before any work; nothing answers 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMITS, IMPORT_BODY_LIMITS } from '#shared/http/json-body';
import { deepArray, deepObject, objectOf, PROTOTYPE_NAMES } from '#test/helpers/hostile';
import type { ApiResponse } from '#test/helpers/local-stack';
import {
  createImage,
  expectNothingStuck,
  type FileServer,
  type ImportStack,
  imageTasks,
  importImage,
  randomBytesOf,
  serveBytes,
  showImage,
  startFileServer,
  startImportStack,
} from '#test/integration/import/helpers';

let stack: ImportStack;
let files: FileServer;
beforeAll(async () => {
  stack = await startImportStack();
  files = await startFileServer({ '/ok.img': serveBytes(randomBytesOf(4096)) });
});
afterAll(async () => {
  await files?.close();
  await stack?.stop();
});

const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';
const patch = (id: string, operations: string) =>
  stack.api('PATCH', `/v2/images/${id}`, {
    token: stack.owner,
    body: operations,
    headers: { 'content-type': PATCH_TYPE },
  });
const postJson = (path: string, body: string, token = stack.owner) =>
  stack.api('POST', path, { token, body, headers: { 'content-type': 'application/json' } });

/** A property's value read from the raw response text, whatever its name. */
const propertyOf = (response: ApiResponse, name: string): unknown =>
  Object.getOwnPropertyDescriptor(JSON.parse(response.text), name)?.value;

const expectGlance400 = (response: ApiResponse, message: RegExp) => {
  expect(response.status).toBe(400);
  expect(response.json).toEqual({ error: { code: 400, title: 'Bad Request', message: expect.any(String) } });
  expect(response.json.error.message).toMatch(message);
};

describe('property names special to JavaScript objects', () => {
  it.each(PROTOTYPE_NAMES)(
    '%s round-trips through create, show, list, PATCH add, replace and remove',
    async (name) => {
      const key = JSON.stringify(name);
      const created = await postJson('/v2/images', `{"name": "n", ${key}: "first", "os_distro": "x"}`);
      expect(created.status).toBe(201);
      expect(propertyOf(created, name)).toBe('first');
      const id = JSON.parse(created.text).id as string;

      const shown = await stack.api('GET', `/v2/images/${id}`, { token: stack.owner });
      expect(propertyOf(shown, name)).toBe('first');
      expect(propertyOf(shown, 'os_distro')).toBe('x');

      const filtered = await stack.api('GET', `/v2/images?${encodeURIComponent(name)}=first`, {
        token: stack.owner,
      });
      expect(filtered.status).toBe(200);
      expect(filtered.json.images.map((image: { id: string }) => image.id)).toContain(id);

      const pointer = `/${name}`;
      const replaced = await patch(id, `[{"op": "replace", "path": "${pointer}", "value": "second"}]`);
      expect(replaced.status).toBe(200);
      expect(propertyOf(replaced, name)).toBe('second');
      const removed = await patch(id, `[{"op": "remove", "path": "${pointer}"}]`);
      expect(removed.status).toBe(200);
      expect(Object.keys(JSON.parse(removed.text))).not.toContain(name);
      expect(propertyOf(removed, 'os_distro')).toBe('x');
      const added = await patch(id, `[{"op": "add", "path": "${pointer}", "value": "third"}]`);
      expect(added.status).toBe(200);
      expect(propertyOf(await stack.api('GET', `/v2/images/${id}`, { token: stack.owner }), name)).toBe(
        'third',
      );
    },
  );

  it('keeps all of them on one image, and pollutes no prototype', async () => {
    const properties = objectOf(PROTOTYPE_NAMES.map((name) => [name, `v-${name}`]));
    const created = await postJson('/v2/images', JSON.stringify({ name: 'all', ...properties }));
    expect(created.status).toBe(201);
    const shown = await stack.api('GET', `/v2/images/${JSON.parse(created.text).id}`, { token: stack.owner });
    for (const name of PROTOTYPE_NAMES) expect(propertyOf(shown, name)).toBe(`v-${name}`);
    expect(({} as Record<string, unknown>)['v-__proto__']).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('round-trips them through the legacy import task: the new image and the task input', async () => {
    const imageProperties = objectOf([
      ['name', 'from-task'],
      ['disk_format', 'raw'],
      ['container_format', 'bare'],
      ...PROTOTYPE_NAMES.map((name) => [name, `t-${name}`] as [string, string]),
    ]);
    const input = { import_from: files.url('/ok.img'), image_properties: imageProperties, constructor: 'c' };
    const created = await postJson('/v2/tasks', JSON.stringify({ type: 'import', input }), stack.admin);
    expect(created.status).toBe(201);
    const task = JSON.parse(created.text);
    expect(JSON.stringify(task.input)).toBe(JSON.stringify(input));
    await stack.stepFunctions.waitFor(task.id, 45_000);
    const shown = await stack.api('GET', `/v2/tasks/${task.id}`, { token: stack.admin });
    expect(JSON.parse(shown.text)).toMatchObject({ status: 'success' });
    expect(JSON.stringify(JSON.parse(shown.text).input)).toBe(JSON.stringify(input));
    const image = await stack.api('GET', `/v2/images/${task.image_id}`, { token: stack.admin });
    expect(image.json.status).toBe('active');
    for (const name of PROTOTYPE_NAMES) expect(propertyOf(image, name)).toBe(`t-${name}`);
  });

  it('keeps them in an import request, shown back in the task input', async () => {
    const image = await createImage(stack);
    const body = `{"method": {"name": "web-download", "uri": ${JSON.stringify(files.url('/ok.img'))}, "constructor": "m"}, "__proto__": {"x": 1}}`;
    expect((await postJson(`/v2/images/${image.id}/import`, body)).status).toBe(202);
    const [task] = await imageTasks(stack, image.id);
    await stack.stepFunctions.waitFor(task?.id ?? '', 45_000);
    const listed = await stack.api('GET', `/v2/images/${image.id}/tasks`, { token: stack.owner });
    const importRequest = JSON.parse(listed.text).tasks[0].input.import_req;
    expect(Object.keys(importRequest)).toEqual(['method', '__proto__']);
    expect(importRequest.method.constructor).toBe('m');
    expect((await showImage(stack, image.id)).status).toBe('active');
  });
});

describe('bodies nested too deep or too large', () => {
  const TEN_THOUSAND = deepArray(10_000);

  it.each([
    ['POST /v2/images', 'POST', () => '/v2/images', `{"name": ${TEN_THOUSAND}}`, 'application/json'],
    [
      'PATCH /v2/images/{id}',
      'PATCH',
      (id: string) => `/v2/images/${id}`,
      `[{"op": "add", "path": "/a", "value": ${TEN_THOUSAND}}]`,
      PATCH_TYPE,
    ],
    [
      'POST /v2/images/{id}/import',
      'POST',
      (id: string) => `/v2/images/${id}/import`,
      `{"method": ${TEN_THOUSAND}}`,
      'application/json',
    ],
    [
      'POST /v2/tasks',
      'POST',
      () => '/v2/tasks',
      `{"type": "import", "input": ${TEN_THOUSAND}}`,
      'application/json',
    ],
  ])('%s nested 10,000 levels deep is a 400', async (_route, method, path, body, contentType) => {
    const image = await createImage(stack);
    const response = await stack.api(method, path(image.id), {
      token: path(image.id) === '/v2/tasks' ? stack.admin : stack.owner,
      body,
      headers: { 'content-type': contentType },
    });
    expectGlance400(response, /levels deep/);
    expect((await showImage(stack, image.id)).status).toBe('queued');
  });

  it(`accepts ${BODY_LIMITS.maxDepth} levels in a create body and refuses one more`, async () => {
    const at = await postJson('/v2/images', `{"name": "x", "os_x": ${deepArray(BODY_LIMITS.maxDepth - 1)}}`);
    expect(at.status).toBe(400);
    expect(at.json.error.message).toMatch(/os_x/);
    expectGlance400(
      await postJson('/v2/images', `{"os_x": ${deepArray(BODY_LIMITS.maxDepth)}}`),
      /20 levels/,
    );
  });

  it(`refuses an import body nested ${IMPORT_BODY_LIMITS.maxDepth + 1} levels, or over 64 KiB`, async () => {
    const image = await createImage(stack);
    const deep = `{"method": {"name": "web-download"}, "x": ${deepObject(IMPORT_BODY_LIMITS.maxDepth)}}`;
    expectGlance400(await importImage(stack, image.id, deep), /10 levels/);
    const justDeepEnough = `{"method": {"name": "web-download"}, "x": ${deepObject(IMPORT_BODY_LIMITS.maxDepth - 1)}}`;
    const passed = await importImage(stack, image.id, justDeepEnough);
    expect(passed.status).toBe(400);
    expect(passed.json.error.message).toMatch(/URI/);
    const large = { method: { name: 'web-download', uri: files.url('/ok.img') }, pad: 'x'.repeat(65_536) };
    expectGlance400(await importImage(stack, image.id, JSON.stringify(large)), /at most 65536/);
    expect(await imageTasks(stack, image.id)).toEqual([]);
    expect((await showImage(stack, image.id)).status).toBe('queued');
  });

  it('refuses a task body over 64 KiB and creates nothing', async () => {
    const before = (await stack.api('GET', '/v2/tasks', { token: stack.admin })).json.tasks.length;
    const input = { import_from: files.url('/ok.img'), image_properties: { name: 'x'.repeat(70_000) } };
    const response = await postJson('/v2/tasks', JSON.stringify({ type: 'import', input }), stack.admin);
    expectGlance400(response, /at most 65536/);
    expect((await stack.api('GET', '/v2/tasks', { token: stack.admin })).json.tasks).toHaveLength(before);
  });

  it('leaves nothing stuck', async () => {
    await expectNothingStuck(stack);
  });
});
