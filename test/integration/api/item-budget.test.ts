/**
 * The item budget over HTTP (docs/configuration.md#item-budget): bodies that would take an image
 * past its budget are refused with 413 in Glance's shape and nothing is written, and an image
 * filled to just under its budget walks its whole lifecycle: a presigned upload that never comes
 * is swept back to `queued`, then it is uploaded, deactivated, reactivated, tagged off and deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetOf } from '#shared/images/budget';
import type { ImageRecord } from '#shared/images/model';
import { LIMITS } from '#shared/images/model';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import { historyOf, randomData, showImage, uploadDirect } from '../uploads/helpers.ts';

const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';
const VALUE = 'v'.repeat(LIMITS.propertyValueBytes);

let stack: TestStack;
let owner: string;
let admin: string;
/** The stored record, as the repository reads it (loaded once the stack has set the environment). */
let stored: (id: string) => Promise<ImageRecord>;

beforeAll(async () => {
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: 'p-budget', roles: ['member'] });
  admin = await stack.tokenFor({ project: 'p-budget-admin', roles: ['admin'] });
  const { images } = await import('#shared/runtime');
  stored = async (id) => (await images().get(id)) as ImageRecord;
});
afterAll(() => stack.stop());

const create = (body: Record<string, unknown>) =>
  stack.api('POST', '/v2/images', {
    token: owner,
    body: { disk_format: 'raw', container_format: 'bare', ...body },
  });

const patch = (id: string, operations: unknown) =>
  stack.api('PATCH', `/v2/images/${id}`, {
    token: owner,
    body: JSON.stringify(operations),
    headers: { 'content-type': PATCH_TYPE },
  });

const listed = async () =>
  (await stack.api('GET', '/v2/images?limit=1000', { token: owner })).json.images as { id: string }[];

const expect413 = (response: { status: number; json: unknown }, message: RegExp) => {
  expect(response.status).toBe(413);
  expect(response.json).toEqual({
    error: { code: 413, title: 'Request Entity Too Large', message: expect.stringMatching(message) },
  });
};

/** Three values at the largest a value may be, and a fourth that brings the image near its budget. */
const nearlyFull = async () => {
  const first = await create({ a: VALUE, b: VALUE, c: VALUE });
  expect(first.status).toBe(201);
  const left = LIMITS.imageRecordBytes - budgetOf(await stored(first.json.id));
  // A property is stored as a `[name, value]` pair: its value, its name and 6 bytes (a list of
  // two, and an element of the list of pairs), so 198 bytes stay free.
  const filled = await patch(first.json.id, [{ op: 'add', path: '/d', value: 'v'.repeat(left - 205) }]);
  expect(filled.status).toBe(200);
  const image = await stored(first.json.id);
  expect(LIMITS.imageRecordBytes - budgetOf(image)).toBe(198);
  return image;
};

describe('bodies past the budget', () => {
  it('refuses a property value one byte over the limit, and accepts one at it', async () => {
    const before = await listed();
    expect413(await create({ big: `${VALUE}v` }), /property 'big' takes 65536 bytes; at most 65535/);
    expect(await listed()).toEqual(before);
    // Multi-byte characters count as their UTF-8 bytes.
    expect413(await create({ big: '\u20ac'.repeat(21_846) }), /takes 65538 bytes/);
    expect((await create({ big: VALUE })).status).toBe(201);
  });

  it('refuses a create whose whole record would pass the budget, writing nothing', async () => {
    const before = await listed();
    expect413(
      await create({ a: VALUE, b: VALUE, c: VALUE, d: VALUE }),
      /would take \d+ bytes of storage, more than the 262144 an image may take/,
    );
    expect(await listed()).toEqual(before);
  });

  it('refuses a PATCH or a tag that would pass the budget, and the image is unchanged', async () => {
    const image = await nearlyFull();
    // `e` as a pair takes its value and 7 bytes: a value of 192 bytes is one byte over.
    expect413(await patch(image.id, [{ op: 'add', path: '/e', value: 'v'.repeat(192) }]), /262144/);
    expect413(
      await stack.api('PUT', `/v2/images/${image.id}/tags/${'t'.repeat(200)}`, { token: owner }),
      /262144/,
    );
    const after = await stored(image.id);
    expect(after.version).toBe(image.version);
    expect(after.properties).toEqual(image.properties);
    // What fits still fits, to the last byte.
    expect((await patch(image.id, [{ op: 'add', path: '/e', value: 'v'.repeat(191) }])).status).toBe(200);
    expect(budgetOf(await stored(image.id))).toBe(LIMITS.imageRecordBytes);
  });

  it('lets a change that does not grow a full image through', async () => {
    const image = await nearlyFull();
    const shrunk = await patch(image.id, [{ op: 'replace', path: '/d', value: 'short' }]);
    expect(shrunk.status).toBe(200);
    expect(shrunk.json.d).toBe('short');
  });
});

describe('an image at its budget', () => {
  it('completes every transition: swept upload, upload, deactivate, reactivate, delete', async () => {
    const image = await nearlyFull();
    const presign = await stack.api('POST', `/v2/images/${image.id}/file/presign`, {
      token: owner,
      body: { size: 1024 },
    });
    expect(presign.status).toBe(200);
    const { handler: sweep } = await import('#functions/uploads/sweep');
    const report = await sweep({ time: new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString() });
    expect(report.swept).toContain(image.id);
    expect((await showImage(stack, owner, image.id)).status).toBe('queued');

    expect((await uploadDirect(stack, owner, image.id, randomData(1024))).status).toBe(204);
    expect((await showImage(stack, owner, image.id)).status).toBe('active');
    for (const action of ['deactivate', 'reactivate']) {
      const response = await stack.api('POST', `/v2/images/${image.id}/actions/${action}`, { token: admin });
      expect(response.status).toBe(204);
    }
    expect((await historyOf(stack, owner, image.id)).map((entry: { to: string }) => entry.to)).toEqual([
      'queued',
      'saving',
      'queued',
      'saving',
      'active',
      'deactivated',
      'active',
    ]);
    expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token: owner })).status).toBe(204);
    expect((await stored(image.id)).status).toBe('deleted');
  }, 60_000);
});
