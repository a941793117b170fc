/**
 * Presigned uploads through the local stack, with the S3 trigger wired as in `npm start`: single
 * PUT, multipart, re-signing, kills (size mismatch, cap, quota), bad input, races, deletes.
 * Small thresholds (multipart above 200 kB, 100 kB parts) and limits keep it fast.
 */
import { ListPartsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import {
  createImage,
  download,
  eventually,
  historyOf,
  type Json,
  keysUnder,
  md5,
  putTo,
  randomData,
  s3Of,
  sha512,
  showImage,
  uploadDirect,
  urlScope,
  waitForImage,
} from './helpers.ts';

const CAP = 1_000_000;
/** image_size_total in MiB: 2,097,152 bytes per project. */
const QUOTA_MIB = 2;
const PART = 100_000;

let stack: TestStack;
let owner: string;
let other: string;

beforeAll(async () => {
  Object.assign(process.env, {
    MULTIPART_THRESHOLD_BYTES: '200000',
    MULTIPART_PART_SIZE_BYTES: String(PART),
    PRESIGN_MAX_PART_URLS: '3',
    IMAGE_SIZE_CAP: String(CAP),
    GLANCE_QUOTA_IMAGE_SIZE_TOTAL: String(QUOTA_MIB),
  });
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: 'p-pre', roles: ['member', 'reader'] });
  other = await stack.tokenFor({ project: 'p-other', roles: ['member', 'reader'] });
});
afterAll(() => stack.stop());

const presign = (id: string, body?: unknown, token = owner, kind = 'file') =>
  stack.api('POST', `/v2/images/${id}/${kind}/presign`, { token, ...(body === undefined ? {} : { body }) });
const complete = (id: string, body: unknown, token = owner, kind = 'file') =>
  stack.api('POST', `/v2/images/${id}/${kind}/complete`, { token, body });
const settled = (image: Json) => image.status !== 'saving';

/** Uploads every part of a multipart plan (asking for URLs beyond the first batch), returns the ETags. */
const uploadParts = async (id: string, plan: Json, data: Uint8Array, kind = 'file') => {
  const urls = new Map<number, string>(plan.parts.map((part: Json) => [part.part_number, part.url]));
  const missing = Array.from({ length: plan.part_count }, (_, i) => i + 1).filter((n) => !urls.has(n));
  for (let i = 0; i < missing.length; i += 3) {
    const more = await presign(
      id,
      { upload_id: plan.upload_id, part_numbers: missing.slice(i, i + 3) },
      owner,
      kind,
    );
    expect(more.status).toBe(200);
    for (const part of more.json.parts) urls.set(part.part_number, part.url);
  }
  return Promise.all(
    [...urls].map(async ([number, url]) => {
      const chunk = data.subarray((number - 1) * plan.part_size, number * plan.part_size);
      const response = await putTo(url, chunk);
      expect(response.status).toBe(200);
      return { part_number: number, etag: response.headers.get('etag') ?? '' };
    }),
  );
};

describe('single presigned PUT', () => {
  it('moves queued → saving → active with the md5 and sha512 of the data', async () => {
    const data = randomData(150_000);
    const image = await createImage(stack, owner);
    const before = Date.now();
    const response = await presign(image.id, { size: data.length });
    expect(response.status).toBe(200);
    const plan = response.json;
    expect(plan).toMatchObject({
      method: 'PUT',
      upload_id: expect.any(String),
      headers: { 'Content-Length': '150000' },
    });
    expect((await showImage(stack, owner, image.id)).status).toBe('saving');

    // The URL's scope, read from the URL: one key of this image, ≤ 15 minutes, length signed.
    const scope = urlScope(plan.url);
    expect(scope.path).toBe(`/${stack.bucketName}/images/${image.id}/${plan.upload_id}`);
    expect(scope.expiresIn).toBeGreaterThan(0);
    expect(scope.expiresIn).toBeLessThanOrEqual(900);
    expect(scope.signedHeaders).toEqual(expect.arrayContaining(['content-length', 'host', 'if-none-match']));
    const expiresAt = Date.parse(plan.expires_at);
    expect(expiresAt - before).toBeLessThanOrEqual(900_000 + 2000);
    expect(Math.abs(scope.signedAt + scope.expiresIn * 1000 - expiresAt)).toBeLessThan(2000);

    const put = await putTo(plan.url, data, plan.headers);
    expect(put.status).toBe(200);
    const active = await waitForImage(stack, owner, image.id, settled);
    expect(active).toMatchObject({
      status: 'active',
      size: data.length,
      checksum: md5(data),
      os_hash_algo: 'sha512',
      os_hash_value: sha512(data),
    });
    const history = await historyOf(stack, owner, image.id);
    expect(history.map((e) => [e.from, e.to, e.actor])).toEqual([
      [null, 'queued', 'user:user-p-pre@project:p-pre'],
      ['queued', 'saving', 'user:user-p-pre@project:p-pre'],
      ['saving', 'active', 'system:s3-trigger'],
    ]);
    const got = await download(stack, owner, image.id);
    expect(got.bytes?.equals(data)).toBe(true);
  });

  it('signs no length when no size is declared', async () => {
    const image = await createImage(stack, owner);
    const response = await presign(image.id);
    expect(response.status).toBe(200);
    expect(response.json.headers).toEqual({ 'If-None-Match': '*' });
    expect(urlScope(response.json.url).signedHeaders).not.toContain('content-length');
    const data = randomData(1234);
    expect((await putTo(response.json.url, data, response.json.headers)).status).toBe(200);
    expect(await waitForImage(stack, owner, image.id, settled)).toMatchObject({
      status: 'active',
      size: 1234,
    });
  });

  it('re-signs the URL of an upload in flight and pushes its deadline out', async () => {
    const image = await createImage(stack, owner);
    const first = (await presign(image.id, { size: 10 })).json;
    const again = await presign(image.id, { upload_id: first.upload_id });
    expect(again.status).toBe(200);
    expect(again.json.upload_id).toBe(first.upload_id);
    expect(urlScope(again.json.url).path).toBe(urlScope(first.url).path);
    expect((await presign(image.id, { upload_id: first.upload_id, part_numbers: [1] })).status).toBe(400);
    const data = randomData(10);
    expect((await putTo(again.json.url, data, again.json.headers)).status).toBe(200);
    expect((await waitForImage(stack, owner, image.id, settled)).status).toBe('active');
  });
});

describe('multipart', () => {
  it('uploads 5 parts in parallel, completes, and activates with the right hashes', async () => {
    const data = randomData(4 * PART + 50_000);
    const image = await createImage(stack, owner);
    const response = await presign(image.id, { size: data.length });
    expect(response.status).toBe(200);
    const plan = response.json;
    expect(plan).toMatchObject({
      method: 'multipart',
      size: data.length,
      part_size: PART,
      part_count: 5,
      complete_url: `/v2/images/${image.id}/file/complete`,
    });
    // At most PRESIGN_MAX_PART_URLS (3) URLs per answer; each signs its exact part length.
    expect(plan.parts.map((p: Json) => [p.part_number, p.size])).toEqual([
      [1, PART],
      [2, PART],
      [3, PART],
    ]);
    for (const part of plan.parts) {
      const scope = urlScope(part.url);
      expect(scope.path).toBe(`/${stack.bucketName}/images/${image.id}/${plan.upload_id}`);
      expect(scope.partNumber).toBe(String(part.part_number));
      expect(scope.signedHeaders).toContain('content-length');
      expect(scope.expiresIn).toBeLessThanOrEqual(900);
    }
    const etags = await uploadParts(image.id, plan, data);
    expect(etags).toHaveLength(5);
    expect((await showImage(stack, owner, image.id)).status).toBe('saving');

    const done = await complete(image.id, { upload_id: plan.upload_id, parts: etags.reverse() });
    expect(done.status).toBe(202);
    const active = await waitForImage(stack, owner, image.id, settled);
    expect(active).toMatchObject({
      status: 'active',
      size: data.length,
      checksum: md5(data),
      os_hash_value: sha512(data),
    });
    expect((await download(stack, owner, image.id)).bytes?.equals(data)).toBe(true);
  });

  it('refuses bad completes with 400/409 and no status change, then completes', async () => {
    const data = randomData(3 * PART);
    const image = await createImage(stack, owner);
    const plan = (await presign(image.id, { size: data.length })).json;
    const etags = await uploadParts(image.id, plan, data);
    const sibling = await createImage(stack, owner);
    const siblingPlan = (await presign(sibling.id, { size: 300_000 })).json;

    const cases: [string, unknown, number][] = [
      ['unknown upload_id', { upload_id: '00000000-0000-4000-8000-000000000000', parts: etags }, 400],
      ["another image's upload_id", { upload_id: siblingPlan.upload_id, parts: etags }, 400],
      ['a missing part', { upload_id: plan.upload_id, parts: etags.slice(1) }, 400],
      [
        'a part beyond the plan',
        { upload_id: plan.upload_id, parts: [...etags, { part_number: 4, etag: 'x' }] },
        400,
      ],
      [
        'a wrong ETag',
        {
          upload_id: plan.upload_id,
          parts: [{ ...etags[0], etag: md5(Buffer.from('no')) }, ...etags.slice(1)],
        },
        400,
      ],
      [
        'no ETag',
        { upload_id: plan.upload_id, parts: etags.map(({ part_number }) => ({ part_number })) },
        400,
      ],
      ['a part listed twice', { upload_id: plan.upload_id, parts: [...etags, etags[0]] }, 400],
      ['no parts', { upload_id: plan.upload_id, parts: [] }, 400],
      [
        'a non-integer part number',
        { upload_id: plan.upload_id, parts: [{ part_number: 1.5, etag: 'x' }] },
        400,
      ],
      ['unknown fields', { upload_id: plan.upload_id, parts: etags, extra: 1 }, 400],
      ['not JSON', 'nope', 400],
    ];
    for (const [name, body, status] of cases) {
      const response = await complete(image.id, body);
      expect([name, response.status]).toEqual([name, status]);
      expect(response.json.error.message).toEqual(expect.any(String));
    }
    // The stage endpoint does not complete a file upload.
    expect(
      (await complete(image.id, { upload_id: plan.upload_id, parts: etags }, owner, 'stage')).status,
    ).toBe(409);
    expect((await showImage(stack, owner, image.id)).status).toBe('saving');
    expect(await keysUnder(s3Of(stack), stack.bucketName, `images/${image.id}/`)).toEqual([]);

    expect((await complete(image.id, { upload_id: plan.upload_id, parts: etags })).status).toBe(202);
    expect((await waitForImage(stack, owner, image.id, settled)).checksum).toBe(md5(data));
    // Completing again: the image is no longer waiting (409).
    expect((await complete(image.id, { upload_id: plan.upload_id, parts: etags })).status).toBe(409);
  });

  it('is 409 to complete an image that is not saving, and 400 for a single-PUT upload', async () => {
    const queued = await createImage(stack, owner);
    const body = {
      upload_id: '00000000-0000-4000-8000-000000000000',
      parts: [{ part_number: 1, etag: 'x' }],
    };
    expect((await complete(queued.id, body)).status).toBe(409);
    const single = await createImage(stack, owner);
    const plan = (await presign(single.id, { size: 10 })).json;
    expect((await complete(single.id, { ...body, upload_id: plan.upload_id })).status).toBe(400);
  });
});

describe('kills', () => {
  it('kills an upload whose size differs from the declared one, with the reason, and deletes the object', async () => {
    const image = await createImage(stack, owner);
    const plan = (await presign(image.id, { size: 1000 })).json;
    // The local S3 does not enforce the signed Content-Length (AWS S3 would refuse this PUT).
    expect((await putTo(plan.url, randomData(1500))).status).toBe(200);
    const killed = await waitForImage(stack, owner, image.id, settled);
    expect(killed.status).toBe('killed');
    // The object's size is known before it is read (it is not read at all): the reason is exact.
    expect(killed.os_glance_failure_reason).toBe('Size mismatch: 1000 bytes declared, 1500 bytes received.');
    const history = await historyOf(stack, owner, image.id);
    expect(history.at(-1)).toMatchObject({
      from: 'saving',
      to: 'killed',
      trigger: 'uploadReject',
      actor: 'system:s3-trigger',
      reason: killed.os_glance_failure_reason,
    });
    // The trigger deletes the object right after the kill it wrote.
    await expect.poll(() => keysUnder(s3Of(stack), stack.bucketName, `images/${image.id}/`)).toEqual([]);
    // Killed images are listed, and can only be deleted.
    const list = await stack.api('GET', '/v2/images?status=killed', { token: owner });
    expect(list.json.images.map((i: Json) => i.id)).toContain(image.id);
    expect((await presign(image.id, { size: 10 })).status).toBe(409);
    expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token: owner })).status).toBe(204);
  });

  it('kills a smaller upload too', async () => {
    const image = await createImage(stack, owner);
    const plan = (await presign(image.id, { size: 1000 })).json;
    expect((await putTo(plan.url, randomData(999))).status).toBe(200);
    const killed = await waitForImage(stack, owner, image.id, settled);
    expect(killed.os_glance_failure_reason).toBe('Size mismatch: 1000 bytes declared, 999 bytes received.');
  });

  it('refuses a declared size over the cap with 413 before any URL, and kills an undeclared upload over it', async () => {
    // A project of its own: the uploads in flight of the other tests hold room in p-pre's quota.
    const capped = await stack.tokenFor({ project: 'p-cap', roles: ['member'] });
    const image = await createImage(stack, capped);
    const refused = await presign(image.id, { size: CAP + 1 }, capped);
    expect(refused.status).toBe(413);
    expect((await showImage(stack, capped, image.id)).status).toBe('queued');

    const plan = (await presign(image.id, undefined, capped)).json;
    expect((await putTo(plan.url, randomData(CAP + 100_000))).status).toBe(200);
    const killed = await waitForImage(stack, capped, image.id, settled);
    expect(killed.status).toBe('killed');
    expect(killed.os_glance_failure_reason).toContain('exceeds the image size cap of 1000000 bytes');
    // The trigger deletes the object right after the kill it wrote.
    await expect.poll(() => keysUnder(s3Of(stack), stack.bucketName, `images/${image.id}/`)).toEqual([]);
  });

  it('enforces the project quota: 413 when declared, killed when not', async () => {
    const quota = await stack.tokenFor({ project: 'p-quota', roles: ['member'] });
    for (let i = 0; i < 2; i++) {
      const filler = await createImage(stack, quota);
      expect((await uploadDirect(stack, quota, filler.id, randomData(900_000))).status).toBe(204);
    }
    const image = await createImage(stack, quota);
    const refused = await presign(image.id, { size: 300_000 }, quota);
    expect(refused.status).toBe(413);
    expect(refused.json.error.message).toContain('quota');
    expect((await uploadDirect(stack, quota, image.id, randomData(300_000))).status).toBe(413);

    const plan = (await presign(image.id, undefined, quota)).json;
    expect((await putTo(plan.url, randomData(300_000))).status).toBe(200);
    const killed = await waitForImage(stack, quota, image.id, settled);
    expect(killed.status).toBe('killed');
    expect(killed.os_glance_failure_reason).toContain(
      'exceeds the quota image_size_total of project p-quota',
    );
  });
});

describe('bad presign requests', () => {
  it.each<[string, unknown]>([
    ['a non-integer size', { size: 1.5 }],
    ['a negative size', { size: -1 }],
    ['a string size', { size: '100' }],
    ['an unknown field', { sizes: 10 }],
    ['a JSON array', [1]],
    ['a malformed upload_id', { upload_id: 'x' }],
  ])('refuses %s with 400 and leaves the image queued', async (_, body) => {
    const image = await createImage(stack, owner);
    const response = await presign(image.id, body);
    expect(response.status).toBe(400);
    expect((await showImage(stack, owner, image.id)).status).toBe('queued');
  });

  it('is 409 on a non-queued image, 400 without formats, 404/403 by policy', async () => {
    const image = await createImage(stack, owner);
    expect((await presign(image.id, { size: 10 })).status).toBe(200);
    expect((await presign(image.id, { size: 10 })).status).toBe(409);
    expect((await presign(image.id, { size: 10 }, owner, 'stage')).status).toBe(409);
    const bare = await createImage(stack, owner, { disk_format: undefined });
    expect((await presign(bare.id, { size: 10 })).status).toBe(400);
    expect((await presign(bare.id, { size: 10 }, other)).status).toBe(404);
    const reader = await stack.tokenFor({ project: 'p-pre', roles: ['reader'] });
    expect((await presign(bare.id, { size: 10 }, reader)).status).toBe(403);
    expect((await showImage(stack, owner, bare.id)).status).toBe('queued');
  });

  it('gives exactly one of 50 concurrent presigns the upload: one 200, 49 × 409, one transition', async () => {
    const image = await createImage(stack, owner);
    const responses = await Promise.all(Array.from({ length: 50 }, () => presign(image.id, { size: 1000 })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    const history = await historyOf(stack, owner, image.id);
    expect(history.filter((e) => e.from === 'queued' && e.to === 'saving')).toHaveLength(1);
    expect((await showImage(stack, owner, image.id)).status).toBe('saving');
  });

  it('leaves the winner of a multipart presign race a usable upload (the losers abort theirs)', async () => {
    const image = await createImage(stack, owner);
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => presign(image.id, { size: 300_000 })),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    // Only the winner's plan is usable; the uploads of the losers were aborted (nothing to check
    // through the API: the winner completes normally).
    const plan = responses.find((r) => r.status === 200)?.json;
    const data = randomData(300_000);
    const etags = await uploadParts(image.id, plan, data);
    expect((await complete(image.id, { upload_id: plan.upload_id, parts: etags })).status).toBe(202);
    expect((await waitForImage(stack, owner, image.id, settled)).checksum).toBe(md5(data));
  });
});

describe('staging', () => {
  it('moves queued → uploading, then records the staged size (no hashes), multipart too', async () => {
    const data = randomData(250_000);
    const image = await createImage(stack, owner, { disk_format: undefined, container_format: undefined });
    const plan = (await presign(image.id, { size: data.length }, owner, 'stage')).json;
    expect(plan.method).toBe('multipart');
    expect(urlScope(plan.parts[0].url).path).toBe(
      `/${stack.bucketName}/staging/${image.id}/${plan.upload_id}`,
    );
    expect((await showImage(stack, owner, image.id)).status).toBe('uploading');
    const etags = await uploadParts(image.id, plan, data, 'stage');
    expect(
      (await complete(image.id, { upload_id: plan.upload_id, parts: etags }, owner, 'file')).status,
    ).toBe(409);
    expect(
      (await complete(image.id, { upload_id: plan.upload_id, parts: etags }, owner, 'stage')).status,
    ).toBe(202);
    const staged = await waitForImage(stack, owner, image.id, (i) => i.size !== null);
    expect(staged).toMatchObject({ status: 'uploading', size: data.length, checksum: null });
    const history = await historyOf(stack, owner, image.id);
    expect(history.at(-1)).toMatchObject({ from: 'uploading', to: 'uploading', trigger: 'stageFinish' });
  });
});

describe('deleting during an upload', () => {
  it('removes an object that arrives after the image was deleted', async () => {
    const image = await createImage(stack, owner);
    const plan = (await presign(image.id, { size: 100 })).json;
    expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token: owner })).status).toBe(204);
    expect((await putTo(plan.url, randomData(100), plan.headers)).status).toBe(200);
    const s3 = s3Of(stack);
    await eventually(async () => (await keysUnder(s3, stack.bucketName, `images/${image.id}/`)).length === 0);
  });

  it('aborts the pending multipart upload of a deleted image', async () => {
    const image = await createImage(stack, owner);
    const plan = (await presign(image.id, { size: 300_000 })).json;
    expect((await putTo(plan.parts[0].url, randomData(PART))).status).toBe(200);
    expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token: owner })).status).toBe(204);
    const [, uploadId] = /uploadId=([^&]+)/.exec(plan.parts[0].url) ?? [];
    await expect(
      s3Of(stack).send(
        new ListPartsCommand({
          Bucket: stack.bucketName,
          Key: `images/${image.id}/${plan.upload_id}`,
          UploadId: decodeURIComponent(uploadId ?? ''),
        }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });
});
