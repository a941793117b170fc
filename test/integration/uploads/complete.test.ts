/**
 * `.../complete` through the local stack, with the completion function behind the local Lambda
 * endpoint as on AWS behind an asynchronous invoke (docs/uploads.md#completing-a-multipart-upload):
 * the API answers 202 before the assembly runs; completing twice assembles once; an upload swept
 * before the completion ran stays queued; a completion that cannot assemble fails into the
 * failure queue after its retries, and the sweeper still returns the image to queued.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListPartsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import {
  createImage,
  historyOf,
  type Json,
  keysUnder,
  md5,
  putTo,
  randomData,
  s3Of,
  showImage,
  waitForImage,
} from './helpers.ts';

const PART = 100_000;

let stack: TestStack;
let owner: string;

beforeAll(async () => {
  Object.assign(process.env, {
    MULTIPART_THRESHOLD_BYTES: '200000',
    MULTIPART_PART_SIZE_BYTES: String(PART),
    // The tests run the sweeper themselves.
    SWEEP_INTERVAL_SECONDS: '0',
  });
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: 'p-complete', roles: ['member', 'reader'] });
});
afterAll(() => stack.stop());

const presign = (id: string, body: unknown) =>
  stack.api('POST', `/v2/images/${id}/file/presign`, { token: owner, body });
const complete = (id: string, body: unknown) =>
  stack.api('POST', `/v2/images/${id}/file/complete`, { token: owner, body });
const settled = (image: Json) => image.status !== 'saving';
const runsFor = (uploadId: string) =>
  stack.lambda.runs.filter((run) => (run.event as { upload_id?: string }).upload_id === uploadId);

/** A multipart upload with `uploaded` of its 3 parts in S3; the plan and those parts' ETags. */
const startMultipart = async (uploaded = 3) => {
  const data = randomData(3 * PART);
  const image = await createImage(stack, owner);
  const plan = (await presign(image.id, { size: data.length })).json;
  expect(plan).toMatchObject({ method: 'multipart', part_count: 3 });
  const etags = await Promise.all(
    plan.parts.slice(0, uploaded).map(async (part: Json) => {
      const chunk = data.subarray((part.part_number - 1) * PART, part.part_number * PART);
      const response = await putTo(part.url, chunk);
      expect(response.status).toBe(200);
      return { part_number: part.part_number, etag: response.headers.get('etag') ?? '' };
    }),
  );
  return { data, image, plan, body: { upload_id: plan.upload_id, parts: etags } };
};

/** An asynchronous invoke of the completion function, as the API function makes it. */
const invokeCompletion = async (event: Json) => {
  const lambda = new LambdaClient({ endpoint: stack.lambda.endpoint });
  const queued = await lambda.send(
    new InvokeCommand({
      FunctionName: process.env.COMPLETE_UPLOAD_FUNCTION,
      InvocationType: 'Event',
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    }),
  );
  expect(queued.StatusCode).toBe(202);
};

/** One sweeper run as if it ran a day from now: every upload's deadline has passed. */
const sweepTomorrow = async () => {
  const { handler } = await import('#functions/uploads/sweep');
  return handler({ time: new Date(Date.now() + 86_400_000 * 2).toISOString() });
};

describe('completing a multipart upload', () => {
  it('answers 202 before the completion runs; the object appears when it has', async () => {
    const { data, image, plan, body } = await startMultipart();
    stack.lambda.hold();
    try {
      const answer = await complete(image.id, body);
      expect(answer.status).toBe(202);
      expect(answer.json).toEqual({ image_id: image.id, upload_id: plan.upload_id, status: 'saving' });
      expect(await keysUnder(s3Of(stack), stack.bucketName, `images/${image.id}/`)).toEqual([]);
      expect((await showImage(stack, owner, image.id)).status).toBe('saving');
      expect(runsFor(plan.upload_id)).toEqual([]);
    } finally {
      stack.lambda.release();
    }
    await stack.lambda.idle();
    expect(runsFor(plan.upload_id)).toMatchObject([{ attempts: 1, result: { outcome: 'completed' } }]);
    expect(await waitForImage(stack, owner, image.id, settled)).toMatchObject({
      status: 'active',
      checksum: md5(data),
    });
  });

  it('assembles once when completed twice before the first completion ran', async () => {
    const { data, image, plan, body } = await startMultipart();
    stack.lambda.hold();
    try {
      expect((await complete(image.id, body)).status).toBe(202);
      expect((await complete(image.id, body)).status).toBe(202);
    } finally {
      stack.lambda.release();
    }
    await stack.lambda.idle();
    // Both ran at once: S3 may answer the second with success too (a repeated completion of the
    // same upload), or with NoSuchUpload / 412; either way one object, finalised once.
    const outcomes = runsFor(plan.upload_id).map((run) => (run.result as { outcome: string }).outcome);
    expect(outcomes).toHaveLength(2);
    expect(outcomes).toContain('completed');
    for (const outcome of outcomes) expect(['completed', 'gone']).toContain(outcome);
    expect((await waitForImage(stack, owner, image.id, settled)).checksum).toBe(md5(data));
    const history = await historyOf(stack, owner, image.id);
    expect(history.filter((entry: Json) => entry.to === 'active')).toHaveLength(1);
    // Once assembled, another complete is a conflict, checked in the API function.
    expect((await complete(image.id, body)).status).toBe(409);
  });

  it('does nothing when run again for an upload it completed (a retry after a timeout)', async () => {
    const { image, plan, body } = await startMultipart();
    expect((await complete(image.id, body)).status).toBe(202);
    await stack.lambda.idle();
    expect((await waitForImage(stack, owner, image.id, settled)).status).toBe('active');
    // Lambda runs the same event again: the image no longer waits for the upload.
    await invokeCompletion({ image_id: image.id, kind: 'file', upload_id: plan.upload_id });
    await stack.lambda.idle();
    expect(runsFor(plan.upload_id).map((run) => run.result)).toEqual([
      { outcome: 'completed' },
      { outcome: 'not-pending' },
    ]);
    expect((await showImage(stack, owner, image.id)).status).toBe('active');
  });

  it('leaves an upload swept before its completion ran in queued, with nothing assembled', async () => {
    const { image, plan, body } = await startMultipart();
    stack.lambda.hold();
    try {
      expect((await complete(image.id, body)).status).toBe(202);
      const report = await sweepTomorrow();
      expect(report.swept).toContain(image.id);
      expect((await showImage(stack, owner, image.id)).status).toBe('queued');
    } finally {
      stack.lambda.release();
    }
    await stack.lambda.idle();
    expect(runsFor(plan.upload_id)).toMatchObject([{ attempts: 1, result: { outcome: 'not-pending' } }]);
    expect((await showImage(stack, owner, image.id)).status).toBe('queued');
    expect(await keysUnder(s3Of(stack), stack.bucketName, `images/${image.id}/`)).toEqual([]);
    await expect(
      s3Of(stack).send(
        new ListPartsCommand({
          Bucket: stack.bucketName,
          Key: `images/${image.id}/${plan.upload_id}`,
          UploadId: 'x',
        }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('fails a completion it cannot assemble into the failure queue after two retries; the sweeper still returns the image to queued', async () => {
    // Two of three parts: the API would refuse (400); an invocation that gets through anyway
    // (or finds parts changed since) must not assemble a short object.
    const { image, plan } = await startMultipart(2);
    const event = { image_id: image.id, kind: 'file', upload_id: plan.upload_id };
    await invokeCompletion(event);
    await stack.lambda.idle();
    expect(
      stack.lambda.failures.filter(
        (failure) => failure.event && (failure.event as Json).upload_id === plan.upload_id,
      ),
    ).toEqual([
      {
        functionName: 'CompleteUpload',
        event,
        attempts: 3,
        error: { errorType: 'CompletionRefused', errorMessage: expect.stringContaining('its plan has 3') },
      },
    ]);
    expect((await showImage(stack, owner, image.id)).status).toBe('saving');
    expect((await sweepTomorrow()).swept).toContain(image.id);
    expect((await showImage(stack, owner, image.id)).status).toBe('queued');
  }, 20_000);
});
