/** The repository keeps an image in the sparse pending-upload index (gsi3) exactly while `upload` is set. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyTrigger } from '#shared/images/actions';
import type { PendingUpload } from '#shared/images/model';
import { imageKey } from '#shared/table';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
import { queuedImage } from '#test/helpers/images';

let db: DynamoFixture;
beforeAll(async () => {
  db = await startDynamo();
});
afterAll(() => db.stop());

const FAR = '2999-01-01T00:00:00.000Z';
const due = async () => (await db.images.expiredUploads({ before: FAR, limit: 100 })).ids;
const rawItem = async (id: string) =>
  (await db.doc.send(new GetCommand({ TableName: db.emulators.tableName, Key: imageKey(id) }))).Item ?? {};
const upload = (deadline: string): PendingUpload => ({
  kind: 'file',
  key: 'images/x/y',
  declared_size: 1,
  deadline,
});

it('indexes the upload when it starts, moves it when extended, drops it when it ends', async () => {
  const image = queuedImage();
  await db.images.create(image);
  expect(await due()).not.toContain(image.id);

  const saving = await applyTrigger(db.images, image, 'uploadStart', {
    actor: 't',
    set: { upload: upload('2030-01-01T00:00:00.000Z') },
  });
  expect(await rawItem(image.id)).toMatchObject({
    gsi3pk: 'UPLOAD',
    gsi3sk: `2030-01-01T00:00:00.000Z#${image.id}`,
  });
  expect(await due()).toContain(image.id);
  expect(
    (await db.images.expiredUploads({ before: '2029-01-01T00:00:00.000Z', limit: 100 })).ids,
  ).not.toContain(image.id);
  // The record read back carries no index attributes.
  expect(Object.keys((await db.images.get(image.id)) ?? {})).not.toContain('gsi3pk');

  const extended = await db.images.update(saving, { upload: upload('2031-01-01T00:00:00.000Z') });
  expect((await rawItem(image.id)).gsi3sk).toBe(`2031-01-01T00:00:00.000Z#${image.id}`);

  await applyTrigger(db.images, extended, 'sweep', { actor: 't', set: { upload: null } });
  const item = await rawItem(image.id);
  expect(item.gsi3pk).toBeUndefined();
  expect(item.gsi3sk).toBeUndefined();
  expect(await due()).not.toContain(image.id);
});

it('drops a deleted image from the index even if the delete does not clear `upload`', async () => {
  const image = queuedImage();
  await db.images.create(image);
  const saving = await applyTrigger(db.images, image, 'uploadStart', {
    actor: 't',
    set: { upload: upload('2030-01-01T00:00:00.000Z') },
  });
  await applyTrigger(db.images, saving, 'delete', { actor: 't' });
  expect((await rawItem(image.id)).gsi3pk).toBeUndefined();
  expect(await due()).not.toContain(image.id);
});
