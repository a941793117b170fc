import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFLICT_ATTEMPTS } from '#shared/retry';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';

let stack: TestStack;
let owner: string;
let otherProject: string;
let readerOnly: string;
let admin: string;

const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';

beforeAll(async () => {
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: 'p-own', roles: ['member', 'reader'] });
  otherProject = await stack.tokenFor({ project: 'p-other', roles: ['member', 'reader'] });
  readerOnly = await stack.tokenFor({ project: 'p-own', roles: ['reader'] });
  admin = await stack.tokenFor({ project: 'p-admin', roles: ['admin'] });
});
afterAll(() => stack.stop());

const create = async (body: Record<string, unknown> = {}, token = owner) => {
  const response = await stack.api('POST', '/v2/images', {
    token,
    body: { name: 'cirros', disk_format: 'raw', container_format: 'bare', ...body },
  });
  expect(response.status).toBe(201);
  return response.json as Record<string, unknown> & { id: string };
};

const patch = (id: string, operations: unknown, token = owner, contentType = PATCH_TYPE) =>
  stack.api('PATCH', `/v2/images/${id}`, {
    token,
    body: JSON.stringify(operations),
    headers: { 'content-type': contentType },
  });

const expectGlanceError = (response: { status: number; json: unknown }, status: number) => {
  expect(response.status).toBe(status);
  expect(response.json).toMatchObject({ error: { code: status, message: expect.any(String) } });
};

describe('discovery', () => {
  it('answers GET / with 300 and GET /versions with 200, without a token', async () => {
    const root = await stack.api('GET', '/');
    expect(root.status).toBe(300);
    const versions = await stack.api('GET', '/versions');
    expect(versions.status).toBe(200);
    expect(versions.json.versions).toContainEqual(
      expect.objectContaining({ id: 'v2.17', status: 'CURRENT' }),
    );
  });

  it.each(['image', 'images', 'member', 'members', 'task', 'tasks'])('serves the %s schema', async (name) => {
    const response = await stack.api('GET', `/v2/schemas/${name}`, { token: owner });
    expect(response.status).toBe(200);
    expect(response.json.name).toBe(name);
  });

  it('has no stores property in the image schema and a 404 for unknown schemas', async () => {
    const image = await stack.api('GET', '/v2/schemas/image', { token: owner });
    expect(Object.keys(image.json.properties)).not.toContain('stores');
    expectGlanceError(await stack.api('GET', '/v2/schemas/nope', { token: owner }), 404);
  });

  it('lists glance-direct and web-download import methods', async () => {
    const response = await stack.api('GET', '/v2/info/import', { token: owner });
    expect(response.json['import-methods'].value).toEqual(['glance-direct', 'web-download']);
  });
});

describe('create and show', () => {
  it('creates a queued image with Glance defaults and a Location header', async () => {
    const response = await stack.api('POST', '/v2/images', {
      token: owner,
      body: { name: 'ubuntu', disk_format: 'qcow2', container_format: 'bare', hw_disk_bus: 'scsi' },
    });
    expect(response.status).toBe(201);
    const image = response.json;
    expect(response.headers.get('location')).toBe(`/v2/images/${image.id}`);
    expect(image).toMatchObject({
      status: 'queued',
      visibility: 'shared',
      protected: false,
      os_hidden: false,
      owner: 'p-own',
      size: null,
      checksum: null,
      min_disk: 0,
      min_ram: 0,
      tags: [],
      hw_disk_bus: 'scsi',
      self: `/v2/images/${image.id}`,
      file: `/v2/images/${image.id}/file`,
      schema: '/v2/schemas/image',
    });
    expect(image.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const shown = await stack.api('GET', `/v2/images/${image.id}`, { token: owner });
    expect(shown.json).toEqual(image);
  });

  it('keeps a supplied id and refuses it a second time (409)', async () => {
    const id = 'b6c1e6b4-3a49-4a5c-9b1e-1d2f3a4b5c6d';
    await create({ id });
    expectGlanceError(await stack.api('POST', '/v2/images', { token: owner, body: { id } }), 409);
  });

  it.each<[string, number, unknown]>([
    ['malformed JSON', 400, '{"name": '],
    ['a JSON array', 400, '[]'],
    ['a JSON scalar', 400, '42'],
    ['a wrong type', 400, { name: 42 }],
    ['a name over 255 characters', 400, { name: 'x'.repeat(256) }],
    ['an unknown disk format', 400, { disk_format: 'floppy' }],
    ['an unknown container format', 400, { container_format: 'box' }],
    ['an invalid visibility', 400, { visibility: 'everyone' }],
    ['a negative min_disk', 400, { min_disk: -1 }],
    ['a negative min_ram', 400, { min_ram: -5 }],
    ['a malformed id', 400, { id: 'not-a-uuid' }],
    ['a non-string property', 400, { hw_cpu: 4 }],
    ['a property name over 255 characters', 400, { ['k'.repeat(256)]: 'v' }],
    ['a read-only attribute', 403, { status: 'active' }],
    ['a reserved attribute', 403, { os_glance_import_task: 'x' }],
    ['a foreign owner', 403, { owner: 'p-other' }],
    ['public visibility by a non-admin', 403, { visibility: 'public' }],
    ['too many tags', 413, { tags: Array.from({ length: 129 }, (_, i) => `t${i}`) }],
  ])('refuses %s with %i and writes nothing', async (_, status, body) => {
    const before = await stack.api('GET', '/v2/images?limit=1000', { token: owner });
    const response = await stack.api('POST', '/v2/images', {
      token: owner,
      body: typeof body === 'string' ? body : body,
      headers: { 'content-type': 'application/json' },
    });
    expectGlanceError(response, status);
    const after = await stack.api('GET', '/v2/images?limit=1000', { token: owner });
    expect(after.json.images).toHaveLength(before.json.images.length);
  });

  it('refuses creation to a reader (403) and to a missing or bad token (401)', async () => {
    expectGlanceError(await stack.api('POST', '/v2/images', { token: readerOnly, body: {} }), 403);
    // In JWT mode API Gateway's authorizer refuses the token, with its own body (docs/identity.md#jwt-mode).
    for (const token of [undefined, 'garbage']) {
      const refused = await stack.api('POST', '/v2/images', { token, body: {} });
      expect([refused.status, refused.json]).toEqual([401, { message: 'Unauthorized' }]);
    }
  });

  it('answers 404 for unknown, malformed and invisible ids', async () => {
    const image = await create({ visibility: 'private' });
    expectGlanceError(
      await stack.api('GET', '/v2/images/2b0e1c1a-0000-4000-8000-000000000000', { token: owner }),
      404,
    );
    expectGlanceError(await stack.api('GET', '/v2/images/not-a-uuid', { token: owner }), 404);
    expectGlanceError(await stack.api('GET', `/v2/images/${image.id}`, { token: otherProject }), 404);
    expect((await stack.api('GET', `/v2/images/${image.id}`, { token: admin })).status).toBe(200);
  });

  it('lets an admin create public images for another project', async () => {
    const image = await create({ visibility: 'public', owner: 'p-other' }, admin);
    expect(image).toMatchObject({ visibility: 'public', owner: 'p-other' });
    expect((await stack.api('GET', `/v2/images/${image.id}`, { token: owner })).status).toBe(200);
  });
});

describe('routing errors', () => {
  it('answers unknown paths with a Glance 404 and wrong methods with 405 and Allow', async () => {
    expectGlanceError(await stack.api('GET', '/v2/nothing', { token: owner }), 404);
    const response = await stack.api('PUT', '/v2/images', { token: owner, body: {} });
    expectGlanceError(response, 405);
    expect(response.headers.get('allow')).toContain('POST');
  });

  it('refuses a body over 6 MB with 413', async () => {
    const response = await stack.api('POST', '/v2/images', {
      token: owner,
      body: JSON.stringify({ name: 'x'.repeat(7 * 1024 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    expectGlanceError(response, 413);
  });
});

describe('PATCH', () => {
  it('applies add, replace and remove in one request', async () => {
    const image = await create({ foo: 'bar' });
    const response = await patch(image.id, [
      { op: 'replace', path: '/name', value: 'renamed' },
      { op: 'add', path: '/color', value: 'blue' },
      { op: 'add', path: '/foo', value: 'overwritten' },
      { op: 'replace', path: '/min_ram', value: 512 },
      { op: 'replace', path: '/tags', value: ['a', 'b', 'a'] },
    ]);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      name: 'renamed',
      color: 'blue',
      foo: 'overwritten',
      min_ram: 512,
      tags: ['a', 'b'],
    });
    const removed = await patch(image.id, [{ op: 'remove', path: '/color' }]);
    expect(removed.json.color).toBeUndefined();
  });

  it.each<[string, number, unknown]>([
    ['a read-only attribute', 403, [{ op: 'replace', path: '/status', value: 'active' }]],
    ['the checksum', 403, [{ op: 'replace', path: '/checksum', value: 'abc' }]],
    ['a reserved os_glance property', 403, [{ op: 'add', path: '/os_glance_import_task', value: 'x' }]],
    ['removing a base attribute', 403, [{ op: 'remove', path: '/name' }]],
    ['replacing a missing property', 409, [{ op: 'replace', path: '/missing', value: 'x' }]],
    ['removing a missing property', 409, [{ op: 'remove', path: '/missing' }]],
    ['an unknown op', 400, [{ op: 'move', path: '/name', value: 'x' }]],
    ['a missing path', 400, [{ op: 'add', value: 'x' }]],
    ['a missing value', 400, [{ op: 'add', path: '/name' }]],
    ['a nested path', 400, [{ op: 'add', path: '/a/b', value: 'x' }]],
    ['an invalid value', 400, [{ op: 'replace', path: '/visibility', value: 'everyone' }]],
    ['a negative min_disk', 400, [{ op: 'replace', path: '/min_disk', value: -1 }]],
    ['a non-array body', 400, { op: 'add', path: '/name', value: 'x' }],
    ['public visibility by a non-admin', 403, [{ op: 'replace', path: '/visibility', value: 'public' }]],
    ['a foreign owner', 403, [{ op: 'replace', path: '/owner', value: 'p-other' }]],
  ])('refuses %s with %i and changes nothing', async (_, status, operations) => {
    const image = await create();
    const body = Array.isArray(operations)
      ? [{ op: 'add', path: '/first', value: 'applied?' }, ...operations]
      : operations;
    const response = await patch(image.id, body);
    expectGlanceError(response, status);
    const after = await stack.api('GET', `/v2/images/${image.id}`, { token: owner });
    expect(after.json).toEqual(image);
  });

  it('refuses other media types with 415 and Accept-Patch', async () => {
    const image = await create();
    const response = await patch(
      image.id,
      [{ op: 'replace', path: '/name', value: 'x' }],
      owner,
      'application/json',
    );
    expectGlanceError(response, 415);
    expect(response.headers.get('accept-patch')).toBe(
      'application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch',
    );
  });

  it('takes the draft-4 dialect under the v2.0 media type, as tempest sends it', async () => {
    const image = await create();
    const response = await patch(
      image.id,
      [{ replace: '/name', value: 'renamed' }, { add: '/color', value: 'red' }, { remove: '/color' }],
      owner,
      'application/openstack-images-v2.0-json-patch',
    );
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ name: 'renamed' });
    expect(response.json).not.toHaveProperty('color');
  });

  it("answers an operation in the other dialect with 400 and Glance's message", async () => {
    const image = await create();
    const v21AsV20 = await patch(
      image.id,
      [{ op: 'replace', path: '/name', value: 'x' }],
      owner,
      'application/openstack-images-v2.0-json-patch',
    );
    expectGlanceError(v21AsV20, 400);
    expect(v21AsV20.json.error.message).toBe(
      'Operation objects must contain exactly one member named "add", "remove", or "replace".',
    );
    const v20AsV21 = await patch(image.id, [{ replace: '/name', value: 'x' }], owner);
    expectGlanceError(v20AsV21, 400);
    expect(v20AsV21.json.error.message).toMatch(/^Unable to find `op` in JSON Schema change/);
  });

  it('hides images from other projects (404) and forbids readers (403)', async () => {
    const image = await create();
    expectGlanceError(await patch(image.id, [{ op: 'add', path: '/x', value: 'y' }], otherProject), 404);
    expectGlanceError(await patch(image.id, [{ op: 'add', path: '/x', value: 'y' }], readerOnly), 403);
  });

  it('loses no update among 20 concurrent PATCHes of different properties', async () => {
    const image = await create();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        patch(image.id, [{ op: 'add', path: `/prop_${index}`, value: `v${index}` }]),
      ),
    );
    for (const response of responses) expect([200, 409]).toContain(response.status);
    const applied = responses.flatMap((response, index) => (response.status === 200 ? [index] : []));
    const final = (await stack.api('GET', `/v2/images/${image.id}`, { token: owner })).json;
    for (let index = 0; index < 20; index++) {
      expect(final[`prop_${index}`]).toBe(applied.includes(index) ? `v${index}` : undefined);
    }
    expect(applied.length).toBeGreaterThan(0);
  });
});

describe('tags', () => {
  it('adds idempotently and removes, with 404 for an absent tag and 400 for a long one', async () => {
    const image = await create();
    expect((await stack.api('PUT', `/v2/images/${image.id}/tags/red`, { token: owner })).status).toBe(204);
    expect((await stack.api('PUT', `/v2/images/${image.id}/tags/red`, { token: owner })).status).toBe(204);
    const shown = await stack.api('GET', `/v2/images/${image.id}`, { token: owner });
    expect(shown.json.tags).toEqual(['red']);
    expect((await stack.api('DELETE', `/v2/images/${image.id}/tags/red`, { token: owner })).status).toBe(204);
    expectGlanceError(await stack.api('DELETE', `/v2/images/${image.id}/tags/red`, { token: owner }), 404);
    expectGlanceError(
      await stack.api('PUT', `/v2/images/${image.id}/tags/${'t'.repeat(256)}`, { token: owner }),
      400,
    );
  });
  it('routes a tag with an encoded slash nowhere, as HTTP API does (docs/decisions.md#d15); PATCH sets and removes it', async () => {
    const image = await create();
    expectGlanceError(await stack.api('PUT', `/v2/images/${image.id}/tags/a%2Fb`, { token: owner }), 404);
    expect((await stack.api('GET', `/v2/images/${image.id}`, { token: owner })).json.tags).toEqual([]);

    const tagged = await patch(image.id, [{ op: 'replace', path: '/tags', value: ['a/b'] }]);
    expect(tagged.status).toBe(200);
    expect(tagged.json.tags).toEqual(['a/b']);
    expectGlanceError(await stack.api('DELETE', `/v2/images/${image.id}/tags/a%2Fb`, { token: owner }), 404);
    expect((await patch(image.id, [{ op: 'replace', path: '/tags', value: [] }])).json.tags).toEqual([]);
  });
});

describe('deactivate, reactivate and delete', () => {
  it('answers 403 from statuses other than active/deactivated', async () => {
    const image = await create();
    expectGlanceError(
      await stack.api('POST', `/v2/images/${image.id}/actions/deactivate`, { token: owner }),
      403,
    );
    expectGlanceError(
      await stack.api('POST', `/v2/images/${image.id}/actions/reactivate`, { token: owner }),
      403,
    );
    const shown = await stack.api('GET', `/v2/images/${image.id}`, { token: owner });
    expect(shown.json.status).toBe('queued');
  });

  it('refuses to delete a protected image (403), then deletes it once unprotected', async () => {
    const image = await create({ protected: true });
    expectGlanceError(await stack.api('DELETE', `/v2/images/${image.id}`, { token: owner }), 403);
    await patch(image.id, [{ op: 'replace', path: '/protected', value: false }]);
    expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token: owner })).status).toBe(204);
    expectGlanceError(await stack.api('GET', `/v2/images/${image.id}`, { token: owner }), 404);
    expectGlanceError(await stack.api('DELETE', `/v2/images/${image.id}`, { token: owner }), 404);
    const history = await stack.api('GET', `/v2/images/${image.id}/history`, { token: admin });
    expect(history.status).toBe(404);
  });

  it('forbids another project to delete a public image (403)', async () => {
    const image = await create({ visibility: 'public' }, admin);
    expectGlanceError(await stack.api('DELETE', `/v2/images/${image.id}`, { token: otherProject }), 403);
  });

  it('never answers 409 to a DELETE or a deactivate that races harmless edits: it retries on the fresh image', async () => {
    for (let round = 0; round < 3; round++) {
      const image = await create();
      const upload = await stack.api('PUT', `/v2/images/${image.id}/file`, {
        token: owner,
        body: new Uint8Array(1024),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(upload.status).toBe(204);
      // As many racing writers as the retry policy lets land (shared/retry.ts): each of a
      // request's lost runs is another writer's win, so with CONFLICT_ATTEMPTS writers in all none
      // runs out of attempts. More racers could make any of them answer 409, by design.
      const tags = (from: number) =>
        Array.from({ length: CONFLICT_ATTEMPTS - 1 }, (_, i) =>
          stack.api('PUT', `/v2/images/${image.id}/tags/t${from + i}`, { token: owner }),
        );
      const [deactivated] = await Promise.all([
        stack.api('POST', `/v2/images/${image.id}/actions/deactivate`, { token: owner }),
        ...tags(0),
      ]);
      expect(deactivated.status).toBe(204);
      const [deleted, ...tagged] = await Promise.all([
        stack.api('DELETE', `/v2/images/${image.id}`, { token: owner }),
        ...tags(100),
      ]);
      expect(deleted.status).toBe(204);
      for (const response of tagged) expect([204, 404]).toContain(response.status);
    }
  });

  it('shows the history to the owner project and admins, not to everyone who can see the image', async () => {
    const image = await create({ visibility: 'public' }, admin);
    expect((await stack.api('GET', `/v2/images/${image.id}`, { token: otherProject })).status).toBe(200);
    expectGlanceError(await stack.api('GET', `/v2/images/${image.id}/history`, { token: otherProject }), 403);
    expect((await stack.api('GET', `/v2/images/${image.id}/history`, { token: admin })).status).toBe(200);
  });

  it('records every transition in the history', async () => {
    const image = await create();
    const history = await stack.api('GET', `/v2/images/${image.id}/history`, { token: owner });
    expect(history.status).toBe(200);
    expect(history.json.history).toEqual([
      expect.objectContaining({
        from: null,
        to: 'queued',
        trigger: 'create',
        actor: 'user:user-p-own@project:p-own',
      }),
    ]);
  });
});

describe('history pages', () => {
  /** An active image with `cycles` deactivate/reactivate cycles behind it. */
  const cycled = async (cycles: number) => {
    const image = await create();
    const upload = await stack.api('PUT', `/v2/images/${image.id}/file`, {
      token: owner,
      body: new Uint8Array(1024),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(upload.status).toBe(204);
    for (let cycle = 0; cycle < cycles; cycle++) {
      for (const action of ['deactivate', 'reactivate']) {
        const response = await stack.api('POST', `/v2/images/${image.id}/actions/${action}`, {
          token: admin,
        });
        expect(response.status).toBe(204);
      }
    }
    return image;
  };

  it('pages every transition once, oldest first, following the next links', async () => {
    const image = await cycled(5);
    const seen: { version: number; from: string | null; to: string }[] = [];
    let path: string | undefined = `/v2/images/${image.id}/history?limit=4`;
    let pages = 0;
    while (path) {
      const page = await stack.api('GET', path, { token: owner });
      expect(page.status).toBe(200);
      expect(page.json.first).toBe(`/v2/images/${image.id}/history`);
      expect(page.json.history.length).toBeLessThanOrEqual(4);
      seen.push(...page.json.history);
      path = page.json.next;
      pages++;
    }
    // create, upload start, activation, then ten cycles' transitions.
    expect(seen.map((entry) => entry.to)).toEqual([
      'queued',
      'saving',
      'active',
      ...Array.from({ length: 5 }, () => ['deactivated', 'active']).flat(),
    ]);
    const versions = seen.map((entry) => entry.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    seen.forEach((entry, index) => {
      expect(entry.from).toBe(index === 0 ? null : seen[index - 1]?.to);
    });
    expect(pages).toBe(4);
    // A marker is the version of the last entry seen: the page after it starts right there.
    const fourth = seen[3]?.version;
    const after = await stack.api('GET', `/v2/images/${image.id}/history?marker=${fourth}&limit=2`, {
      token: owner,
    });
    expect(after.json.history).toEqual(seen.slice(4, 6));
    expect(after.json.next).toBe(`/v2/images/${image.id}/history?marker=${seen[5]?.version}&limit=2`);
  });

  it('lowers a limit above 100 to 100 entries', async () => {
    const image = await cycled(50);
    const page = await stack.api('GET', `/v2/images/${image.id}/history?limit=100000`, { token: owner });
    expect(page.status).toBe(200);
    expect(page.json.history).toHaveLength(100);
    const last = page.json.history[99].version;
    expect(page.json.next).toBe(`/v2/images/${image.id}/history?marker=${last}&limit=100`);
    const rest = await stack.api('GET', page.json.next, { token: owner });
    expect(rest.json.history).toHaveLength(3);
    expect(rest.json.next).toBeUndefined();
  }, 60_000);

  it.each(['limit=-1', 'limit=abc', 'limit=1.5', 'marker=x', 'marker=-3', 'limit=99999999999999999999'])(
    'refuses ?%s with 400',
    async (query) => {
      const image = await create();
      const response = await stack.api('GET', `/v2/images/${image.id}/history?${query}`, { token: owner });
      expectGlanceError(response, 400);
    },
  );
});

describe('listing', () => {
  let listOwner: string;
  const ids: string[] = [];

  beforeAll(async () => {
    listOwner = await stack.tokenFor({ project: 'p-list', roles: ['member'] });
    for (let index = 0; index < 7; index++) {
      const image = await create(
        {
          name: `img-${index}`,
          tags: index % 2 ? ['odd'] : ['even'],
          os_hidden: index === 6,
          min_ram: index,
        },
        listOwner,
      );
      ids.push(image.id);
    }
  });

  /** Other tests create public images too: scope every listing to this project. */
  const list = (query: string, token = listOwner) =>
    stack.api('GET', `/v2/images${query}${query ? '&' : '?'}owner=p-list`, { token });

  it('lists newest first and pages with marker and next', async () => {
    const first = await list('?limit=3');
    expect(first.status).toBe(200);
    expect(first.json.images.map((image: { id: string }) => image.id)).toEqual([ids[5], ids[4], ids[3]]);
    expect(first.json.first).toBe('/v2/images?limit=3&owner=p-list');
    expect(first.json.next).toBe(`/v2/images?limit=3&owner=p-list&marker=${ids[3]}`);
    const second = await stack.api('GET', first.json.next, { token: listOwner });
    expect(second.json.images.map((image: { id: string }) => image.id)).toEqual([ids[2], ids[1], ids[0]]);
    const third = await stack.api('GET', second.json.next, { token: listOwner });
    expect(third.json.images).toEqual([]);
    expect(third.json.next).toBeUndefined();
  });

  it.each<[string, (index: number) => boolean]>([
    ['?tag=odd', (index) => index % 2 === 1 && index !== 6],
    ['?name=img-2', (index) => index === 2],
    ['?name=in:img-1,img-4', (index) => index === 1 || index === 4],
    ['?os_hidden=true', (index) => index === 6],
    ['?min_ram=3', (index) => index === 3],
    ['?status=queued&sort_key=name&sort_dir=asc', (index) => index !== 6],
    ['?visibility=private', () => false],
  ])('filters %s', async (query, expected) => {
    const response = await list(query);
    expect(response.status).toBe(200);
    const want = ids.filter((_, index) => expected(index));
    expect(response.json.images.map((image: { id: string }) => image.id).sort()).toEqual([...want].sort());
  });

  it('sorts by name ascending and pages through a custom order', async () => {
    const first = await list('?sort=name:asc&limit=4');
    expect(first.json.images.map((image: { name: string }) => image.name)).toEqual([
      'img-0',
      'img-1',
      'img-2',
      'img-3',
    ]);
    const second = await stack.api('GET', first.json.next, { token: listOwner });
    expect(second.json.images.map((image: { name: string }) => image.name)).toEqual(['img-4', 'img-5']);
  });

  it.each([
    '?limit=-1',
    '?limit=abc',
    '?marker=not-a-uuid',
    '?marker=2b0e1c1a-0000-4000-8000-000000000000',
    '?sort_key=color',
    '?sort_dir=sideways',
    '?visibility=everyone',
    '?os_hidden=maybe',
    '?size_min=big',
    '?created_at=yesterday',
    '?created_at=between:2020-01-01T00:00:00Z',
    '?changes-since=2020-01-01T00:00:00Z',
    '?status=in:"queued',
  ])('refuses %s with 400', async (query) => {
    expectGlanceError(await list(query), 400);
  });

  it('does not show private images of other projects, and shows public ones', async () => {
    const privateImage = await create({ visibility: 'private' }, otherProject);
    const publicImage = await create({ visibility: 'public' }, admin);
    const response = await stack.api('GET', '/v2/images?limit=1000', { token: listOwner });
    const listed = response.json.images.map((image: { id: string }) => image.id);
    expect(listed).toContain(publicImage.id);
    expect(listed).not.toContain(privateImage.id);
  });
});
