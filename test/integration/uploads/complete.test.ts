/**
 * `.../complete` through the local stack, with the completion function behind the local Lambda
 * endpoint as on AWS behind an asynchronous invoke (docs/uploads.md#completing-a-multipart-upload):
 * the API answers 202 before the assembly runs, holding the upload's deadline past the assembly so
 * the sweeper leaves it alone, and 409 once the deadline passed; completing twice assembles once;
 * an upload swept before the completion ran stays queued; parts that cannot be assembled send the
 * image back to queued at once, without retries.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListPartsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRecord } from '#shared/images/model';
import { completions, uploadContext } from '#shared/runtime';
import { completeUpload } from '#shared/uploads/complete';
import { COMPLETION_WINDOW_SECONDS } from '#shared/uploads/lifetime';
import { parseCompleteBody } from '#shared/uploads/plan';
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

/** One sweeper run as if it ran at `time`. */
const sweepAt = async (time: Date) => {
  const { handler } = await import('#functions/uploads/sweep');
  return handler({ time: time.toISOString() });
};
/** One sweeper run as if it ran two days from now: every upload's deadline has passed. */
const sweepTomorrow = () => sweepAt(new Date(Date.now() + 86_400_000 * 2));

/** The stored image, with its pending upload's deadline. */
const recordOf = async (id: string): Promise<ImageRecord> => {
  const record = await uploadContext().images.get(id);
  if (!record?.upload) throw new Error(`image ${id} waits for no upload`);
  return record;
};

/** `.../complete`'s API half as the function runs it, at a time of the test's choosing. */
const completeAt = async (id: string, body: Json, now: Date) =>
  completeUpload(
    uploadContext(),
    completions(),
    await recordOf(id),
    'file',
    parseCompleteBody(Buffer.from(JSON.stringify(body))),
    now,
  );

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

  it('sends the image of parts it cannot assemble back to queued at once, with why, and aborts them', async () => {
    // Two of three parts: the API would refuse (400); an invocation that gets through anyway
    // (or finds parts changed since) must not assemble a short object.
    const { image, plan } = await startMultipart(2);
    const multipart = (await recordOf(image.id)).upload?.multipart_upload_id;
    await invokeCompletion({ image_id: image.id, kind: 'file', upload_id: plan.upload_id });
    await stack.lambda.idle();
    expect(runsFor(plan.upload_id)).toMatchObject([{ attempts: 1, result: { outcome: 'refused' } }]);
    expect(
      stack.lambda.failures.filter((failure) => (failure.event as Json)?.upload_id === plan.upload_id),
    ).toEqual([]);
    expect((await showImage(stack, owner, image.id)).status).toBe('queued');
    expect((await historyOf(stack, owner, image.id)).at(-1)).toMatchObject({
      from: 'saving',
      to: 'queued',
      trigger: 'sweep',
      actor: 'system:complete-upload',
      reason: expect.stringContaining('its plan has 3'),
    });
    await expect(
      s3Of(stack).send(
        new ListPartsCommand({
          Bucket: stack.bucketName,
          Key: `images/${image.id}/${plan.upload_id}`,
          UploadId: multipart,
        }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    // The tenant starts again: a new upload of the same image.
    expect((await presign(image.id, { size: 3 * PART })).status).toBe(200);
  }, 20_000);

  it('holds the deadline of an upload completed just before it past the assembly: the sweeper leaves it to S3', async () => {
    const { data, image, plan, body } = await startMultipart();
    const deadline = Date.parse((await recordOf(image.id)).upload?.deadline ?? '');
    const now = new Date(deadline - 60_000);
    stack.lambda.hold();
    try {
      await completeAt(image.id, body, now);
      expect((await recordOf(image.id)).upload?.deadline).toBe(
        new Date(now.getTime() + COMPLETION_WINDOW_SECONDS * 1000).toISOString(),
      );
      // Past the old deadline, before the new one: the assembly is still queued.
      const report = await sweepAt(new Date(deadline + 60_000));
      expect(report.swept).not.toContain(image.id);
      expect((await showImage(stack, owner, image.id)).status).toBe('saving');
    } finally {
      stack.lambda.release();
    }
    await stack.lambda.idle();
    expect(runsFor(plan.upload_id)).toMatchObject([{ result: { outcome: 'completed' } }]);
    expect(await waitForImage(stack, owner, image.id, settled)).toMatchObject({
      status: 'active',
      checksum: md5(data),
    });
  });

  it('answers 409 to a complete after the deadline, queues nothing and leaves the upload to the sweeper', async () => {
    const { image, plan, body } = await startMultipart();
    const before = await recordOf(image.id);
    const late = new Date(Date.parse(before.upload?.deadline ?? '') + 1000);
    await expect(completeAt(image.id, body, late)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('expired'),
    });
    expect(await recordOf(image.id)).toEqual(before);
    await stack.lambda.idle();
    expect(runsFor(plan.upload_id)).toEqual([]);
    expect((await sweepAt(new Date(late.getTime() + 1000))).swept).toContain(image.id);
  });
});
