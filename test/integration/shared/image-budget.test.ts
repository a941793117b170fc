/**
 * An image accepted at the item budget can complete every transition of its lifecycle
 * (docs/configuration.md#item-budget): created with client attributes that take the whole
 * budget, by a caller whose user and project ids are as long as a token may carry, it walks
 * upload, re-sign, activation, deactivate, reactivate and delete, and the kill, sweep, import and
 * delayed-delete paths, with the longest reasons and a 1,024-character multipart upload id; after
 * every write the stored item, counted as DynamoDB counts it (UTF-8), is within the budget.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IDENTITY_LENGTH } from '#shared/auth';
import { actorOf } from '#shared/images/access';
import { budgetOf, MULTIPART_UPLOAD_ID_LENGTH } from '#shared/images/budget';
import { newImage } from '#shared/images/create';
import { type ImageRecord, LIMITS } from '#shared/images/model';
import type { ImageRepository } from '#shared/images/repository';
import { LOCK_PROPERTY } from '#shared/import/lock';
import { DYNAMODB_ITEM_LIMIT, itemSize } from '#shared/item-size';
import { decideImage, type ImageTrigger } from '#shared/status-rules';
import { imageKey } from '#shared/table';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
import { imageOfBudget, member, storedHistory } from '#test/helpers/images';

let db: DynamoFixture;
beforeAll(async () => {
  db = await startDynamo();
});
afterAll(() => db.stop());

const longest = '\u{10000}'.repeat(MAX_IDENTITY_LENGTH);
const caller = member(`p${longest}`.slice(0, -2), `u${longest}`.slice(0, -2));
const actor = actorOf(caller);
const reason = '\u20ac'.repeat(3 * LIMITS.reasonLength);
const NUMBER = Number.MAX_SAFE_INTEGER;

const atTheBudget = (): ImageRecord =>
  imageOfBudget(
    LIMITS.imageRecordBytes,
    newImage(
      {
        name: '\u{10000}'.repeat(LIMITS.nameLength),
        disk_format: 'raw',
        container_format: 'bare',
        tags: Array.from({ length: 100 }, (_, i) => `${i}${'\u{10000}'.repeat(60)}`),
      },
      caller,
    ),
  );

/** The stored item's size as DynamoDB counts it, checked against the budget after each write. */
const checkStored = async (id: string, budget: number) => {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.emulators.tableName, Key: imageKey(id), ConsistentRead: true }),
  );
  const size = itemSize(Item ?? {});
  expect(size).toBeLessThanOrEqual(budget);
  expect(budget).toBeLessThanOrEqual(LIMITS.imageRecordBytes);
  return size;
};

/** Applies `trigger` and checks the stored item. */
const walk = async (
  images: ImageRepository,
  image: ImageRecord,
  trigger: ImageTrigger,
  options: Partial<Parameters<ImageRepository['transition']>[2]> = {},
) => {
  const next = await images.transition(image, decideImage(image, trigger), { actor, reason, ...options });
  await checkStored(image.id, budgetOf(image));
  return next;
};

const upload = (image: ImageRecord, kind: 'file' | 'stage') => ({
  kind,
  key: `${kind === 'file' ? 'images' : 'staging'}/${image.id}/00000000-0000-0000-0000-000000000000`,
  declared_size: NUMBER,
  deadline: '2099-12-31T23:59:59.999Z',
  multipart_upload_id: 'x'.repeat(MULTIPART_UPLOAD_ID_LENGTH),
  part_size: NUMBER,
  started_at: '2099-12-31T23:59:59.999Z',
});

const data = (image: ImageRecord) => ({
  size: NUMBER,
  virtual_size: NUMBER,
  checksum: 'c'.repeat(32),
  os_hash_algo: 'sha512',
  os_hash_value: 'h'.repeat(128),
  data_key: `images/${image.id}/00000000-0000-0000-0000-000000000000`,
  upload: null,
});

describe('an image at the item budget', () => {
  it('is accepted at exactly the budget, and one byte more is refused with 413 and nothing stored', async () => {
    const over = imageOfBudget(LIMITS.imageRecordBytes + 1);
    await expect(db.images.create(over)).rejects.toMatchObject({ status: 413 });
    expect(await db.images.get(over.id)).toBeUndefined();
    const exact = atTheBudget();
    expect(budgetOf(exact)).toBe(LIMITS.imageRecordBytes);
    await db.images.create(exact);
    await checkStored(exact.id, LIMITS.imageRecordBytes);
  });

  it('walks upload, re-sign, activation, deactivate, reactivate and delete', async () => {
    let image = await db.images.create(atTheBudget());
    image = await walk(db.images, image, 'uploadStart', { set: { upload: upload(image, 'file') } });
    image = await db.images.update(image, {
      upload: { ...upload(image, 'file'), deadline: '2100-01-01T00:00:00.000Z' },
    });
    await checkStored(image.id, LIMITS.imageRecordBytes);
    image = await walk(db.images, image, 'uploadFinish', { set: data(image) });
    image = await walk(db.images, image, 'deactivate');
    image = await walk(db.images, image, 'reactivate');
    image = await walk(db.images, image, 'delete');
    expect((await storedHistory(db.images, image.id)).map((entry) => entry.to)).toEqual([
      'queued',
      'saving',
      'active',
      'deactivated',
      'active',
      'deleted',
    ]);
  });

  it('is killed with the longest reason, and swept back to queued', async () => {
    let killed = await db.images.create(atTheBudget());
    killed = await walk(db.images, killed, 'uploadStart', { set: { upload: upload(killed, 'file') } });
    killed = await walk(db.images, killed, 'uploadReject', { failure: 'size-mismatch' });
    expect(killed.properties.os_glance_failure_reason).toHaveLength(LIMITS.reasonLength);
    await walk(db.images, killed, 'delete');

    let swept = await db.images.create(atTheBudget());
    swept = await walk(db.images, swept, 'stageStart', { set: { upload: upload(swept, 'stage') } });
    swept = await walk(db.images, swept, 'sweep', { set: { upload: null } });
    await walk(db.images, swept, 'delete');
  });

  it('takes the import lock, imports and fails an import; is deleted with delay and scrubbed', async () => {
    let image = await db.images.create(atTheBudget());
    image = await walk(db.images, image, 'stageStart', { set: { upload: upload(image, 'stage') } });
    image = await walk(db.images, image, 'stageFinish', {
      set: { size: NUMBER, data_key: upload(image, 'stage').key, upload: null },
    });
    image = await db.images.update(image, {
      properties: { ...image.properties, [LOCK_PROPERTY]: crypto.randomUUID() },
    });
    await checkStored(image.id, LIMITS.imageRecordBytes);
    image = await walk(db.images, image, 'importStart', { set: { upload: null } });
    image = await walk(db.images, image, 'importSucceed', {
      set: data(image),
      removeProperties: [LOCK_PROPERTY],
    });
    image = await walk(db.images, image, 'delayedDelete');
    await walk(db.images, image, 'scrub');

    let failed = await db.images.create(atTheBudget());
    failed = await db.images.update(failed, {
      properties: { ...failed.properties, [LOCK_PROPERTY]: crypto.randomUUID() },
    });
    failed = await walk(db.images, failed, 'importStart', { set: { upload: null } });
    await walk(db.images, failed, 'importFail', {
      set: { data_key: null },
      removeProperties: [LOCK_PROPERTY],
    });
  });

  it('keeps far below DynamoDB’s own limit: the budget leaves room for what later versions may add', () => {
    expect(LIMITS.imageRecordBytes).toBeLessThan(DYNAMODB_ITEM_LIMIT);
  });
});
