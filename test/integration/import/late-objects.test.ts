/**
 * Objects that reach the S3 trigger while an image is importing (docs/uploads.md#finalisation):
 * those of the import holding the lock are its own and left alone; a late object of an upload
 * that was swept before the import began is an orphan, deleted, not kept for the image's life.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { decideImage } from '#shared/status-rules';
import { imageDataKeyOf, stagingKeyOf } from '#shared/storage/bucket';
import { finaliseUpload } from '#shared/uploads/finalise';
import { createImage, objectExists, plantPendingImport, stageDirect, useImportStack } from './helpers.ts';

const { stack } = useImportStack({ routes: {}, env: { LOCAL_FINALISER: 'off' } });

it("keeps the importing task's objects and deletes a late upload's", async () => {
  const { id } = await createImage(stack);
  await stageDirect(stack, id, new Uint8Array(64));
  const before = await stack.images.get(id);
  if (!before) throw new Error('no image');
  const taskId = await plantPendingImport(stack, before);
  const locked = await stack.images.get(id);
  if (!locked) throw new Error('no image');
  await stack.images.transition(locked, decideImage(locked, 'importStart'), { actor: 'test:import' });

  const late = `images/${id}/${randomUUID()}`;
  const own = [stagingKeyOf(id, taskId), imageDataKeyOf(id, taskId)];
  for (const key of [late, ...own]) {
    await stack.s3.send(
      new PutObjectCommand({ Bucket: stack.bucketName, Key: key, Body: new Uint8Array(8) }),
    );
  }
  const ctx = (await import('#shared/runtime')).uploadContext();
  const outcomes = [];
  for (const key of [late, ...own])
    outcomes.push((await finaliseUpload(ctx, { key }, { actor: 'test' })).outcome);
  expect(outcomes[0]).not.toBe('ignored');
  expect(outcomes.slice(1)).toEqual(['ignored', 'ignored']);
  expect(await objectExists(stack, late)).toBe(false);
  for (const key of own) expect(await objectExists(stack, key)).toBe(true);
  expect((await stack.images.get(id))?.status).toBe('importing');
  // No workflow runs this import: leave nothing importing behind.
  expect((await stack.api('DELETE', `/v2/images/${id}`, { token: stack.owner })).status).toBe(204);
});
