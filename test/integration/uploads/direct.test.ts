import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageCorpus, readImage } from '#test/helpers/image-corpus';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import {
  createImage,
  download,
  historyOf,
  keysUnder,
  md5,
  objectExists,
  randomData,
  s3Of,
  sha512,
  showImage,
  uploadDirect,
} from './helpers.ts';

let stack: TestStack;
let owner: string;
let other: string;
let admin: string;

beforeAll(async () => {
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: 'p-data', roles: ['member', 'reader'] });
  other = await stack.tokenFor({ project: 'p-else', roles: ['member', 'reader'] });
  admin = await stack.tokenFor({ project: 'p-admin', roles: ['admin'] });
});
afterAll(() => stack.stop());

describe('PUT /file (direct upload)', () => {
  it('answers 204 with the image active, md5/sha512 of the data, and downloads the same bytes', async () => {
    const data = randomData(300_000);
    const image = await createImage(stack, owner);
    const response = await uploadDirect(stack, owner, image.id, data);
    expect(response.status).toBe(204);
    const shown = await showImage(stack, owner, image.id);
    expect(shown).toMatchObject({
      status: 'active',
      size: data.length,
      virtual_size: data.length,
      checksum: md5(data),
      os_hash_algo: 'sha512',
      os_hash_value: sha512(data),
    });
    const history = await historyOf(stack, owner, image.id);
    expect(history.map((entry) => `${entry.from}->${entry.to}`)).toEqual([
      'null->queued',
      'queued->saving',
      'saving->active',
    ]);
    expect(history[2].actor).toBe('user:user-p-data@project:p-data');

    const got = await download(stack, owner, image.id);
    expect(got.status).toBe(302);
    expect(got.redirect.headers.get('content-md5')).toBe(md5(data));
    expect(got.bytes?.equals(data)).toBe(true);
  });

  it('accepts an empty body: active with size 0 and the hashes of empty input', async () => {
    const image = await createImage(stack, owner);
    expect((await uploadDirect(stack, owner, image.id, new Uint8Array(0))).status).toBe(204);
    expect(await showImage(stack, owner, image.id)).toMatchObject({
      status: 'active',
      size: 0,
      checksum: md5(new Uint8Array(0)),
    });
  });

  it('leaves nothing for the S3 event to do: one activation, one object', async () => {
    const image = await createImage(stack, owner);
    expect((await uploadDirect(stack, owner, image.id, randomData(1000))).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const history = await historyOf(stack, owner, image.id);
    expect(history.filter((entry) => entry.to === 'active')).toHaveLength(1);
    const s3 = s3Of(stack);
    expect(await keysUnder(s3, stack.bucketName, `images/${image.id}/`)).toHaveLength(1);
  });

  it.each<[string, number, Record<string, string>]>([
    ['a JSON content type', 415, { 'content-type': 'application/json' }],
    ['no content type', 415, {}],
    [
      'a non-integer size header',
      400,
      { 'content-type': 'application/octet-stream', 'x-openstack-image-size': '1.5' },
    ],
    [
      'a size header that differs',
      400,
      { 'content-type': 'application/octet-stream', 'x-openstack-image-size': '7' },
    ],
  ])('refuses %s with %i and leaves the image queued', async (_, status, headers) => {
    const image = await createImage(stack, owner);
    const response = await stack.api('PUT', `/v2/images/${image.id}/file`, {
      token: owner,
      body: new Uint8Array(10),
      headers,
    });
    expect(response.status).toBe(status);
    expect((await showImage(stack, owner, image.id)).status).toBe('queued');
    expect(await keysUnder(s3Of(stack), stack.bucketName, `images/${image.id}/`)).toEqual([]);
  });

  it('needs both formats (400) and a queued image (409)', async () => {
    const bare = await createImage(stack, owner, { disk_format: undefined, container_format: undefined });
    expect((await uploadDirect(stack, owner, bare.id, randomData(10))).status).toBe(400);
    expect((await showImage(stack, owner, bare.id)).status).toBe('queued');

    const image = await createImage(stack, owner);
    expect((await uploadDirect(stack, owner, image.id, randomData(10))).status).toBe(204);
    const again = await uploadDirect(stack, owner, image.id, randomData(10));
    expect(again.status).toBe(409);
  });

  it('is 404 for an image the caller cannot see and 403 for one it cannot modify', async () => {
    const image = await createImage(stack, owner);
    expect((await uploadDirect(stack, other, image.id, randomData(10))).status).toBe(404);
    const reader = await stack.tokenFor({ project: 'p-data', roles: ['reader'] });
    expect((await uploadDirect(stack, reader, image.id, randomData(10))).status).toBe(403);
    expect(
      (await uploadDirect(stack, owner, '00000000-0000-4000-8000-000000000000', randomData(10))).status,
    ).toBe(404);
  });

  it('answers 410 to the loser of two concurrent uploads', async () => {
    const image = await createImage(stack, owner);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => uploadDirect(stack, owner, image.id, randomData(50_000))),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 204)).toHaveLength(1);
    for (const status of statuses.filter((s) => s !== 204)) expect([409, 410]).toContain(status);
    expect(statuses).toContain(410);
    const history = await historyOf(stack, owner, image.id);
    expect(history.filter((entry) => entry.to === 'saving')).toHaveLength(1);
  });

  it('refuses a body over the direct limit with 413 naming the presign endpoint', async () => {
    const image = await createImage(stack, owner);
    const response = await uploadDirect(stack, owner, image.id, randomData(4_680_000));
    expect(response.status).toBe(413);
    expect(response.json.error.message).toContain(`/v2/images/${image.id}/file/presign`);
    expect((await showImage(stack, owner, image.id)).status).toBe('queued');
  });

  it("refuses, in Glance's shape, a body under 6 MB whose base64 form is over it, writing nothing", async () => {
    const image = await createImage(stack, owner);
    const response = await uploadDirect(stack, owner, image.id, randomData(5_000_000));
    expect(response.status).toBe(413);
    expect(response.json.error).toMatchObject({ code: 413, title: 'Request Entity Too Large' });
    expect((await showImage(stack, owner, image.id)).status).toBe('queued');
  });

  it('refuses data that is not qcow2, or not safe, with 415 and the reason; takes a real qcow2 with its virtual size', async () => {
    const image = await createImage(stack, owner, { disk_format: 'qcow2' });
    const notQcow2 = await uploadDirect(stack, owner, image.id, randomData(1000));
    expect(notQcow2.status).toBe(415);
    expect(notQcow2.json.error.message).toBe(
      "Image disk_format 'qcow2' does not match the data, which carries no known disk format header (raw).",
    );
    expect((await showImage(stack, owner, image.id)).status).toBe('queued');

    // A qcow2 magic, version and size alone are not a qcow2 header (accepted before full inspection).
    const header = Buffer.alloc(1024);
    header.writeUInt32BE(0x514649fb, 0);
    header.writeUInt32BE(3, 4);
    header.writeBigUInt64BE(10n * 1024n ** 3n, 24);
    const handMade = await uploadDirect(stack, owner, image.id, header);
    expect(handMade.status).toBe(415);
    expect(handMade.json.error.message).toBe(
      'Image data is qcow2 and fails its safety checks: its header length (0) is below the 104 bytes of version 3.',
    );
    expect((await showImage(stack, owner, image.id)).status).toBe('queued');

    const real = (await imageCorpus()).find((candidate) => candidate.name === 'qcow2');
    if (!real?.qemu) throw new Error('no qcow2 in the corpus');
    const bytes = await readImage(real);
    expect((await uploadDirect(stack, owner, image.id, bytes)).status).toBe(204);
    expect(await showImage(stack, owner, image.id)).toMatchObject({
      status: 'active',
      size: bytes.byteLength,
      virtual_size: real.qemu.virtualSize,
    });
  });
});

describe('PUT /stage (direct)', () => {
  it('leaves the image uploading with its size and staged data, no hashes', async () => {
    const data = randomData(20_000);
    const image = await createImage(stack, owner, { disk_format: undefined, container_format: undefined });
    expect((await uploadDirect(stack, owner, image.id, data, 'stage')).status).toBe(204);
    expect(await showImage(stack, owner, image.id)).toMatchObject({
      status: 'uploading',
      size: data.length,
      checksum: null,
    });
    const keys = await keysUnder(s3Of(stack), stack.bucketName, `staging/${image.id}/`);
    expect(keys).toHaveLength(1);
    const history = await historyOf(stack, owner, image.id);
    expect(history.map((entry) => `${entry.from}->${entry.to}:${entry.trigger}`)).toEqual([
      'null->queued:create',
      'queued->uploading:stageStart',
      'uploading->uploading:stageFinish',
    ]);
    // Staging again is a 409; the image download has no data yet.
    expect((await uploadDirect(stack, owner, image.id, data, 'stage')).status).toBe(409);
    expect((await download(stack, owner, image.id)).status).toBe(204);
  });
});

describe('GET /file', () => {
  it('is 204 without data and 404 for invisible images', async () => {
    const image = await createImage(stack, owner);
    expect((await download(stack, owner, image.id)).status).toBe(204);
    expect((await download(stack, other, image.id)).status).toBe(404);
  });

  it('is 403 for a member on a deactivated image and 302 for an admin', async () => {
    const data = randomData(5000);
    const image = await createImage(stack, owner);
    expect((await uploadDirect(stack, owner, image.id, data)).status).toBe(204);
    expect(
      (await stack.api('POST', `/v2/images/${image.id}/actions/deactivate`, { token: owner })).status,
    ).toBe(204);
    expect((await download(stack, owner, image.id)).status).toBe(403);
    const got = await download(stack, admin, image.id);
    expect(got.status).toBe(302);
    expect(got.bytes?.equals(data)).toBe(true);
  });

  it('redirects to a GET URL valid for at most 5 minutes, and ranges work through S3', async () => {
    const data = randomData(10_000);
    const image = await createImage(stack, owner);
    expect((await uploadDirect(stack, owner, image.id, data)).status).toBe(204);
    const got = await download(stack, owner, image.id);
    const url = new URL(got.location ?? '');
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(300);
    expect(url.pathname).toMatch(new RegExp(`/images/${image.id}/[0-9a-f-]{36}$`));
    const range = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer()).equals(data.subarray(100, 200))).toBe(true);
  });
});

describe('DELETE', () => {
  it('removes the data of a deleted image', async () => {
    const image = await createImage(stack, owner);
    expect((await uploadDirect(stack, owner, image.id, randomData(100))).status).toBe(204);
    const s3 = s3Of(stack);
    const [key] = await keysUnder(s3, stack.bucketName, `images/${image.id}/`);
    expect(await objectExists(s3, stack.bucketName, key ?? '')).toBe(true);
    expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token: owner })).status).toBe(204);
    expect(await keysUnder(s3, stack.bucketName, `images/${image.id}/`)).toEqual([]);
  });
});
