/** Delayed delete (T19) and the scrubber (T20): pending_delete keeps the data until it is scrubbed. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { storedHistory } from '#test/helpers/images';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import { createImage, keysUnder, randomData, s3Of, uploadDirect } from './helpers.ts';

let stack: TestStack;
let token: string;

beforeAll(async () => {
  // Read by the delete handler at its cold start, which comes after this.
  process.env.DELAYED_DELETE = 'true';
  // The local stack's own sweeper runs on a timer: with a scrub time of an hour it never scrubs
  // these images itself, so the test alone decides when they are due.
  process.env.SCRUB_TIME_SECONDS = '3600';
  stack = await startTestStack();
  token = await stack.tokenFor({ project: 'p-scrub', roles: ['member'] });
});
afterAll(async () => {
  delete process.env.DELAYED_DELETE;
  delete process.env.SCRUB_TIME_SECONDS;
  await stack.stop();
});

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

it('deletes images without data at once, even with delayed delete on', async () => {
  const image = await createImage(stack, token);
  expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token })).status).toBe(204);
  const dataContext = (await import('#shared/runtime')).uploadContext();
  expect((await dataContext.images.get(image.id))?.status).toBe('deleted');
});
