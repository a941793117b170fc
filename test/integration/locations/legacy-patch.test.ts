/**
 * The legacy `/locations` JSON patch with `SHOW_MULTIPLE_LOCATIONS=true`, through the local stack: the scenarios of
 * tempest's ImageLocationsTest (same operations, same expected codes), plus the service's own copy of the data and
 * the refusals that tempest does not cover.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createImage, serveBytes, useImportStack } from '../import/helpers.ts';

const { stack, files } = useImportStack({
  env: { SHOW_MULTIPLE_LOCATIONS: 'true' },
  routes: { '/test-image.raw': serveBytes(Buffer.from('legacy location data')) },
});

const PATCH = 'application/openstack-images-v2.1-json-patch';
const patch = (id: string, operations: unknown[], token = stack.owner) =>
  stack.api('PATCH', `/v2/images/${id}`, { token, body: operations, headers: { 'content-type': PATCH } });
const show = async (id: string) => (await stack.api('GET', `/v2/images/${id}`, { token: stack.owner })).json;
const httpImage = () => files.url('/test-image.raw');

/** tempest `_check_set_location`: a queued image gets its first location and is active at once. */
const setLocation = async () => {
  const image = await createImage(stack);
  expect(image.status).toBe('queued');
  expect(image.locations).toEqual([]);
  const response = await patch(image.id, [
    { op: 'add', path: '/locations/-', value: { metadata: { foo: 'bar' }, url: httpImage() } },
  ]);
  expect(response.status).toBe(200);
  const shown = await show(image.id);
  expect(shown.locations).toEqual([{ url: httpImage(), metadata: { foo: 'bar' } }]);
  expect(shown.direct_url).toBe(httpImage());
  expect(shown.status).toBe('active');
  expect(shown.os_hash_value).toBeNull();
  return shown as { id: string; locations: Array<{ url: string; metadata: Record<string, unknown> }> };
};

const setMultiple = async () => {
  const image = await setLocation();
  const second = { metadata: { speed: '88mph' }, url: `${httpImage()}#new` };
  expect((await patch(image.id, [{ op: 'add', path: '/locations/-', value: second }])).status).toBe(200);
  const shown = await show(image.id);
  expect(shown.locations).toHaveLength(2);
  expect(shown.locations[1].url).toBe(second.url);
  expect(shown.status).toBe('active');
  expect(shown.direct_url).toBe(shown.locations[0].url);
  return shown as { id: string; locations: Array<{ url: string; metadata: Record<string, unknown> }> };
};

describe('legacy /locations patch (show_multiple_locations on)', () => {
  it('an uploaded image lists its own copy as its one location', async () => {
    const image = await createImage(stack);
    const put = await stack.api('PUT', `/v2/images/${image.id}/file`, {
      token: stack.owner,
      body: Buffer.from('uploaded'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(204);
    const shown = await show(image.id);
    expect(shown.status).toBe('active');
    expect(shown.locations).toHaveLength(1);
    expect(shown.locations[0].url).toMatch(new RegExp(`^s3://${stack.bucketName}/images/${image.id}/`));
    expect(shown.direct_url).toBe(shown.locations[0].url);
    // The service's own copy cannot be removed or re-described through the patch.
    expect((await patch(image.id, [{ op: 'remove', path: '/locations/0' }])).status).toBe(403);
    const redescribed = await patch(image.id, [
      { op: 'replace', path: '/locations', value: [{ url: shown.locations[0].url, metadata: { a: 'b' } }] },
    ]);
    expect(redescribed.status).toBe(403);
  });

  it('sets a location on a queued image: active at once, history queued → active (locationAdd)', async () => {
    const image = await setLocation();
    const history = (await stack.api('GET', `/v2/images/${image.id}/history`, { token: stack.owner })).json
      .history;
    expect(history.map((entry: { trigger: string }) => entry.trigger)).toEqual(['create', 'locationAdd']);
  });

  it('replaces locations: same list and new metadata work; dropping or changing a URL is 400', async () => {
    const image = await setMultiple();
    const original = image.locations;
    expect((await patch(image.id, [{ op: 'replace', path: '/locations', value: original }])).status).toBe(
      200,
    );
    const changed = original.map((location, index) =>
      index === 0 ? { ...location, metadata: { ...location.metadata, date: '2015-10-15' } } : location,
    );
    expect((await patch(image.id, [{ op: 'replace', path: '/locations', value: changed }])).status).toBe(200);
    expect((await patch(image.id, [{ op: 'replace', path: '/locations', value: [changed[0]] }])).status).toBe(
      400,
    );
    const renamed = [changed[0], { metadata: changed[1]?.metadata, url: `${httpImage()}#new3` }];
    expect((await patch(image.id, [{ op: 'replace', path: '/locations', value: renamed }])).status).toBe(400);
    expect((await show(image.id)).locations).toEqual(changed);
  });

  it('removes a location; the last one cannot be removed (403)', async () => {
    const image = await setMultiple();
    const remaining = image.locations[1];
    expect((await patch(image.id, [{ op: 'remove', path: '/locations/0' }])).status).toBe(200);
    const shown = await show(image.id);
    expect(shown.locations).toEqual([remaining]);
    expect(shown.direct_url).toBe(remaining?.url);
    const last = await patch(image.id, [{ op: 'remove', path: '/locations/0' }]);
    expect(last.status).toBe(403);
    expect(last.json.error.message).toBe('Cannot remove last location in the image.');
  });

  it('refuses a bad scheme (400) and writes nothing', async () => {
    const image = await createImage(stack);
    const before = await stack.images.get(image.id);
    const response = await patch(image.id, [
      { op: 'add', path: '/locations/-', value: { metadata: { foo: 'bar' }, url: 'gopher://info.cern.ch' } },
    ]);
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe(400);
    expect(await stack.images.get(image.id)).toEqual(before);
  });

  it('takes validation_data as given (no hashing); matching values may repeat; different ones are 409', async () => {
    const image = await createImage(stack);
    const hashes = { checksum: '1'.repeat(32), os_hash_value: 'deadbeef'.repeat(16), os_hash_algo: 'sha512' };
    const first = { validation_data: hashes, metadata: {}, url: httpImage() };
    expect((await patch(image.id, [{ op: 'add', path: '/locations/-', value: first }])).status).toBe(200);
    const shown = await show(image.id);
    expect(shown).toMatchObject({ status: 'active', ...hashes });
    expect(shown.locations[0]).not.toHaveProperty('validation_data');

    const again = { validation_data: hashes, metadata: {}, url: `${httpImage()}#new` };
    expect((await patch(image.id, [{ op: 'add', path: '/locations/-', value: again }])).status).toBe(200);
    expect((await show(image.id)).locations).toHaveLength(2);

    const different = {
      checksum: '2'.repeat(32),
      os_hash_value: 'beefdead'.repeat(16),
      os_hash_algo: 'sha256',
    };
    for (const [key, value] of Object.entries(different)) {
      const value2 = { validation_data: { ...hashes, [key]: value }, metadata: {}, url: `${httpImage()}#x` };
      expect((await patch(image.id, [{ op: 'add', path: '/locations/-', value: value2 }])).status).toBe(409);
    }
    const all = { validation_data: different, metadata: {}, url: `${httpImage()}#x` };
    expect((await patch(image.id, [{ op: 'add', path: '/locations/-', value: all }])).status).toBe(409);
    expect(await show(image.id)).toMatchObject({ ...hashes, status: 'active' });
  });

  it.each([
    [
      'an invalid position',
      [{ op: 'add', path: '/locations/x', value: { url: 'http://example.com/a', metadata: {} } }],
      400,
    ],
    [
      'a location without metadata',
      [{ op: 'add', path: '/locations/-', value: { url: 'http://example.com/a' } }],
      400,
    ],
    [
      'a private address',
      [{ op: 'add', path: '/locations/-', value: { url: 'http://10.1.2.3/a', metadata: {} } }],
      400,
    ],
    [
      'the instance metadata endpoint',
      [{ op: 'add', path: '/locations/-', value: { url: 'http://169.254.169.254/', metadata: {} } }],
      400,
    ],
    [
      'an s3 URL outside the allow-list',
      [{ op: 'add', path: '/locations/-', value: { url: 's3://other/x', metadata: {} } }],
      400,
    ],
    ['removing from a queued image', [{ op: 'remove', path: '/locations/0' }], 409],
    ['a path too deep', [{ op: 'add', path: '/locations/-/x', value: {} }], 400],
    [
      'an unknown hash algorithm',
      [
        {
          op: 'add',
          path: '/locations/-',
          value: {
            url: 'http://example.com/a',
            metadata: {},
            validation_data: { os_hash_algo: 'md5', os_hash_value: 'ab' },
          },
        },
      ],
      409,
    ],
  ])('refuses %s and writes nothing', async (_what, operations, status) => {
    const image = await createImage(stack);
    const before = await stack.images.get(image.id);
    const response = await patch(image.id, operations);
    expect(response.status).toBe(status);
    expect(response.json.error.code).toBe(status);
    expect(await stack.images.get(image.id)).toEqual(before);
  });

  it('refuses location changes while a location import holds the image (409)', async () => {
    const image = await createImage(stack);
    const record = await stack.images.get(image.id);
    if (!record) throw new Error('no image');
    await stack.images.update(record, { properties: { os_glance_import_task: randomUUID() } });
    const response = await patch(image.id, [
      { op: 'add', path: '/locations/-', value: { url: httpImage(), metadata: {} } },
    ]);
    expect(response.status).toBe(409);
    expect((await stack.images.get(image.id))?.status).toBe('queued');
  });
});

describe('listing images whose locations are shown', () => {
  it("keeps every page under Lambda's 6 MB with the locations counted, and loses no image", async () => {
    // 150,000 control characters of location metadata: 6 bytes each in the response, so six such
    // images in one page would be over the limit, while each is within the item budget.
    const heavy = '\u0001'.repeat(150_000);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const image = await createImage(stack, { name: `heavy-location-${i}`, tags: ['heavy-location'] });
      const value = { metadata: { heavy }, url: httpImage() };
      expect((await patch(image.id, [{ op: 'add', path: '/locations/-', value }])).status).toBe(200);
      ids.push(image.id);
    }
    const listed: string[] = [];
    let pages = 0;
    for (
      let next: string | undefined = '/v2/images?tag=heavy-location&limit=1000';
      next !== undefined;
      pages++
    ) {
      const response = await stack.api('GET', next, { token: stack.owner });
      expect(response.status).toBe(200);
      expect(Buffer.byteLength(response.text)).toBeLessThan(6_291_456);
      for (const image of response.json.images) {
        expect(image.locations[0].metadata.heavy).toBe(heavy);
        listed.push(image.id);
      }
      next = response.json.next;
    }
    expect(pages).toBeGreaterThan(1);
    expect(listed.sort()).toEqual([...ids].sort());
  }, 60_000);
});

describe('a PATCH that adds the first location and changes other attributes', () => {
  it('is decided on the image as the request leaves it: formats cleared by it → 400, nothing written', async () => {
    const image = await createImage(stack);
    const response = await patch(image.id, [
      { op: 'replace', path: '/disk_format', value: null },
      { op: 'add', path: '/locations/-', value: { metadata: {}, url: httpImage() } },
    ]);
    expect(response.status).toBe(400);
    expect(response.json.error.message).toContain('disk_format and container_format must be set');
    expect(await show(image.id)).toMatchObject({ status: 'queued', disk_format: 'raw', locations: [] });
  });

  it('accepts formats set by the same request, as Glance does', async () => {
    const image = await createImage(stack, { disk_format: undefined, container_format: undefined });
    expect(image.disk_format).toBeNull();
    const response = await patch(image.id, [
      { op: 'replace', path: '/disk_format', value: 'raw' },
      { op: 'replace', path: '/container_format', value: 'bare' },
      { op: 'add', path: '/locations/-', value: { metadata: {}, url: httpImage() } },
    ]);
    expect(response.status).toBe(200);
    expect(await show(image.id)).toMatchObject({
      status: 'active',
      disk_format: 'raw',
      container_format: 'bare',
    });
  });

  it('files the image under the visibility it sets, so listings find it', async () => {
    const image = await createImage(stack);
    const response = await patch(image.id, [
      { op: 'replace', path: '/visibility', value: 'community' },
      { op: 'add', path: '/locations/-', value: { metadata: {}, url: httpImage() } },
    ]);
    expect(response.status).toBe(200);
    const listed = await stack.api('GET', '/v2/images?visibility=community&limit=1000', {
      token: stack.other,
    });
    expect(listed.json.images.map((entry: { id: string }) => entry.id)).toContain(image.id);
  });

  it('holds it to the image budget: 413, nothing written', async () => {
    const image = await createImage(stack);
    const big = 'x'.repeat(60_000);
    const response = await patch(image.id, [
      ...Array.from({ length: 6 }, (_, i) => ({ op: 'add', path: `/big_${i}`, value: big })),
      { op: 'add', path: '/locations/-', value: { metadata: {}, url: httpImage() } },
    ]);
    expect(response.status).toBe(413);
    expect(await show(image.id)).toMatchObject({ status: 'queued', locations: [] });
  });
});

describe('replace /locations with nothing', () => {
  it.each([
    ['a queued image', false],
    ['an active image', true],
  ])("answers Glance's 403 on %s, before any other check", async (_, active) => {
    const image = active ? await setLocation() : await createImage(stack);
    const response = await patch(image.id, [{ op: 'replace', path: '/locations', value: [] }]);
    expect(response.status).toBe(403);
    expect(response.json.error.message).toBe('Cannot set locations to empty list.');
  });
});
