/**
 * Decision D2 through the local stack: URLs that live 1 s, no grace, and the sweeper's timer every
 * second. Uploads whose deadline passed without data go back to queued (multipart aborted); an
 * object that arrived but was never finalised (`LOCAL_FINALISER=off`: the trigger "lost" it) is
 * finalised by the sweeper itself.
 */
import { ListPartsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import {
  createImage,
  eventually,
  historyOf,
  md5,
  putTo,
  randomData,
  s3Of,
  showImage,
  waitForImage,
} from './helpers.ts';

let stack: TestStack;
let owner: string;

beforeAll(async () => {
  Object.assign(process.env, {
    UPLOAD_URL_SECONDS: '1',
    UPLOAD_GRACE_SECONDS: '0',
    MULTIPART_GRACE_SECONDS: '0',
    MULTIPART_THRESHOLD_BYTES: '200000',
    MULTIPART_PART_SIZE_BYTES: '100000',
    SWEEP_REFINALISE_AFTER_SECONDS: '0',
    SWEEP_INTERVAL_SECONDS: '1',
    LOCAL_FINALISER: 'off',
  });
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: 'p-sweep', roles: ['member'] });
});
afterAll(() => stack.stop());

const presign = (id: string, body: unknown) =>
  stack.api('POST', `/v2/images/${id}/file/presign`, { token: owner, body });

describe('the sweeper', () => {
  it('refuses an expired URL and moves the image back to queued, recorded in history', async () => {
    const image = await createImage(stack, owner);
    const plan = (await presign(image.id, { size: 100 })).json;
    expect(new URL(plan.url).searchParams.get('X-Amz-Expires')).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const late = await putTo(plan.url, randomData(100), plan.headers);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('Request has expired');

    const queued = await waitForImage(stack, owner, image.id, (i) => i.status === 'queued');
    expect(queued.size).toBeNull();
    const history = await historyOf(stack, owner, image.id);
    expect(history.at(-1)).toMatchObject({
      from: 'saving',
      to: 'queued',
      trigger: 'sweep',
      actor: 'system:sweeper',
      reason: expect.stringContaining(`Upload ${plan.upload_id} expired`),
    });
    // Out of the pending-upload index, and free for a new upload.
    const images = (await import('#shared/runtime')).images();
    const due = await images.expiredUploads({
      before: new Date(Date.now() + 3600_000).toISOString(),
      limit: 100,
    });
    expect(due.ids).not.toContain(image.id);
    expect((await presign(image.id, { size: 100 })).status).toBe(200);
  });

  it('aborts the multipart upload of a swept image', async () => {
    const image = await createImage(stack, owner);
    // No part needs to arrive: the multipart upload exists from the presign on. (A part sent
    // through a URL that lives one second can miss it on a loaded machine.)
    const plan = (await presign(image.id, { size: 300_000 })).json;
    await waitForImage(stack, owner, image.id, (i) => i.status === 'queued', 15_000);
    const uploadId = new URL(plan.parts[0].url).searchParams.get('uploadId') ?? '';
    const listParts = () =>
      s3Of(stack).send(
        new ListPartsCommand({
          Bucket: stack.bucketName,
          Key: `images/${image.id}/${plan.upload_id}`,
          UploadId: uploadId,
        }),
      );
    // The abort follows the transition to queued.
    await eventually(() =>
      listParts().then(
        () => false,
        (error: Error) => error.name === 'NoSuchUpload',
      ),
    );
  });

  it('finalises an object the trigger never handled', async () => {
    const data = randomData(5000);
    const image = await createImage(stack, owner);
    const plan = (await presign(image.id, { size: data.length })).json;
    // Written directly rather than through the one-second URL, which a loaded machine can miss
    // (its expiry counts from the signing second); the sweeper only looks at what the bucket holds.
    await s3Of(stack).send(
      new PutObjectCommand({
        Bucket: stack.bucketName,
        Key: `images/${image.id}/${plan.upload_id}`,
        Body: data,
      }),
    );
    const active = await waitForImage(stack, owner, image.id, (i) => i.status !== 'saving', 15_000);
    expect(active).toMatchObject({ status: 'active', checksum: md5(data) });
    const history = await historyOf(stack, owner, image.id);
    expect(history.at(-1)).toMatchObject({ from: 'saving', to: 'active', actor: 'system:sweeper' });
  });

  it('leaves an upload alone before its deadline', async () => {
    const image = await createImage(stack, owner);
    expect((await presign(image.id, { size: 10 })).status).toBe(200);
    const { handler } = await import('#functions/uploads/sweep');
    const report = await handler({});
    expect([...report.swept, ...report.finalised]).not.toContain(image.id);
    expect((await showImage(stack, owner, image.id)).status).toBe('saving');
  });
});
