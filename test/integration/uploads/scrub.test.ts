/**
 * Delayed delete (T19) and the scrubber (T20): pending_delete keeps the data until it is scrubbed,
 * even when the upload's S3 event reaches the finaliser only after the DELETE. The test delivers
 * the S3 events by hand (`LOCAL_FINALISER=off`), so it decides when they arrive.
 */
import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { storedHistory } from '#test/helpers/images';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import { createImage, eventually, keysUnder, randomData, s3Of, uploadDirect } from './helpers.ts';

let stack: TestStack;
let token: string;
const records: S3EventRecord[] = [];

beforeAll(async () => {
  // Read by the delete handler at its cold start, which comes after this.
  process.env.DELAYED_DELETE = 'true';
  // The local stack's own sweeper runs on a timer: with a scrub time of an hour it never scrubs
  // these images itself, so the test alone decides when they are due.
  process.env.SCRUB_TIME_SECONDS = '3600';
  process.env.LOCAL_FINALISER = 'off';
  stack = await startTestStack();
  token = await stack.tokenFor({ project: 'p-scrub', roles: ['member'] });
  stack.onObjectCreated((event) => void records.push(...event.Records));
});
afterAll(async () => {
  delete process.env.DELAYED_DELETE;
  delete process.env.SCRUB_TIME_SECONDS;
  delete process.env.LOCAL_FINALISER;
  await stack.stop();
});

/** The S3 event s3rver emitted for the one object under `prefix`. */
const eventUnder = async (prefix: string): Promise<S3EventRecord> => {
  await eventually(async () => records.some((record) => record.s3.object.key.startsWith(prefix)));
  return records.find((record) => record.s3.object.key.startsWith(prefix)) as S3EventRecord;
};

const deliver = async (record: S3EventRecord) => {
  const { handler } = await import('#functions/uploads/finalise');
  const context = { functionName: 'Finalise', awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 };
  return handler({ Records: [record] } as S3Event, context as unknown as Context);
};

it('keeps a deleted active image pending_delete with its data, then scrubs it to deleted', async () => {
  const image = await createImage(stack, token);
  expect((await uploadDirect(stack, token, image.id, randomData(2048))).status).toBe(204);
  const s3 = s3Of(stack);
  expect(await keysUnder(s3, stack.bucketName, `images/${image.id}/`)).toHaveLength(1);

  expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token })).status).toBe(204);
  expect((await stack.api('GET', `/v2/images/${image.id}`, { token })).status).toBe(404);

  const dataContext = (await import('#shared/runtime')).uploadContext();
  const { scrubImages } = await import('#shared/uploads/scrub');
  expect((await dataContext.images.get(image.id))?.status).toBe('pending_delete');
  expect(await keysUnder(s3, stack.bucketName, `images/${image.id}/`)).toHaveLength(1);

  // Not yet due with a scrub time of an hour; due with none.
  expect(await scrubImages(dataContext, 3600)).not.toContain(image.id);
  expect(await scrubImages(dataContext, 0)).toContain(image.id);

  const scrubbed = await dataContext.images.get(image.id);
  expect(scrubbed?.status).toBe('deleted');
  expect((await storedHistory(dataContext.images, image.id)).map((entry) => entry.to).slice(-2)).toEqual([
    'pending_delete',
    'deleted',
  ]);
  expect(await keysUnder(s3, stack.bucketName, `images/${image.id}/`)).toEqual([]);
  // Out of the due index: a second run has nothing to do.
  expect(await scrubImages(dataContext, 0)).not.toContain(image.id);
});

it('leaves an image whose data could not be removed pending_delete, and scrubs it on the next run', async () => {
  const image = await createImage(stack, token);
  expect((await uploadDirect(stack, token, image.id, randomData(2048))).status).toBe(204);
  expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token })).status).toBe(204);
  const dataContext = (await import('#shared/runtime')).uploadContext();
  const { scrubImages } = await import('#shared/uploads/scrub');
  const store = dataContext.store;
  // S3 refuses the removal once (throttling, a permission): nothing may be lost track of.
  const refusing = Object.assign(Object.create(store), {
    deleteImageObjects: async () => {
      throw new Error('SlowDown');
    },
  });
  expect(await scrubImages({ ...dataContext, store: refusing }, 0)).not.toContain(image.id);
  expect((await dataContext.images.get(image.id))?.status).toBe('pending_delete');
  expect(await keysUnder(s3Of(stack), stack.bucketName, `images/${image.id}/`)).toHaveLength(1);

  expect(await scrubImages(dataContext, 0)).toContain(image.id);
  expect((await dataContext.images.get(image.id))?.status).toBe('deleted');
  expect(await keysUnder(s3Of(stack), stack.bucketName, `images/${image.id}/`)).toEqual([]);
});

it('deletes images without data at once, even with delayed delete on', async () => {
  const image = await createImage(stack, token);
  expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token })).status).toBe(204);
  const dataContext = (await import('#shared/runtime')).uploadContext();
  expect((await dataContext.images.get(image.id))?.status).toBe('deleted');
});

it("leaves the data of a pending_delete image to the scrubber when the upload's S3 event comes after the DELETE", async () => {
  const image = await createImage(stack, token);
  expect((await uploadDirect(stack, token, image.id, randomData(4096))).status).toBe(204);
  const prefix = `images/${image.id}/`;
  const event = await eventUnder(prefix);
  expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token })).status).toBe(204);

  // The direct upload's ObjectCreated event, delivered late: the object is the image's kept data.
  expect(await deliver(event)).toEqual([{ key: event.s3.object.key, outcome: 'current' }]);
  const s3 = s3Of(stack);
  expect(await keysUnder(s3, stack.bucketName, prefix)).toEqual([event.s3.object.key]);

  const dataContext = (await import('#shared/runtime')).uploadContext();
  expect((await dataContext.images.get(image.id))?.status).toBe('pending_delete');
  const { scrubImages } = await import('#shared/uploads/scrub');
  expect(await scrubImages(dataContext, 0)).toContain(image.id);
  expect(await keysUnder(s3, stack.bucketName, prefix)).toEqual([]);
});
