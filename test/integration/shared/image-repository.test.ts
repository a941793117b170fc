import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageConflict } from '#shared/images/repository';
import { decideImage } from '#shared/status-rules';
import { imageKey } from '#shared/table';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
import { objectOf, PROTOTYPE_NAMES } from '#test/helpers/hostile';
import { queuedImage, storedHistory } from '#test/helpers/images';

let db: DynamoFixture;
beforeAll(async () => {
  db = await startDynamo();
});
afterAll(() => db.stop());

describe('ImageRepository on dynalite', () => {
  it('creates once and refuses a second create with the same id (409), even after delete', async () => {
    const image = queuedImage();
    await db.images.create(image);
    await expect(db.images.create(queuedImage({ id: image.id }))).rejects.toBeInstanceOf(ImageConflict);
    const deleted = await db.images.transition(image, decideImage(image, 'delete'), { actor: 'test' });
    expect(deleted.status).toBe('deleted');
    await expect(db.images.create(queuedImage({ id: image.id }))).rejects.toMatchObject({ status: 409 });
  });

  it('writes a transition and its history entry in one conditional update', async () => {
    const image = queuedImage();
    await db.images.create(image);
    await db.images.transition(image, decideImage(image, 'uploadStart'), {
      actor: 'user:u@project:p',
      reason: 'test',
    });
    const stored = await db.images.get(image.id);
    expect(stored?.status).toBe('saving');
    expect(stored?.version).toBe(2);
    // The entry is in the very write that made the transition.
    expect(stored?.outbox).toEqual([expect.objectContaining({ version: 2, to: 'saving' })]);
    const history = await storedHistory(db.images, image.id);
    expect(history.map((entry) => [entry.version, entry.from, entry.to, entry.trigger])).toEqual([
      [1, null, 'queued', 'create'],
      [2, 'queued', 'saving', 'uploadStart'],
    ]);
    expect(history[1]).toMatchObject({ actor: 'user:u@project:p', reason: 'test' });
  });

  it('refuses a transition decided on a stale version and reports the real state', async () => {
    const image = queuedImage();
    await db.images.create(image);
    await db.images.update(image, { name: 'renamed' });
    const error = await db.images
      .transition(image, decideImage(image, 'uploadStart'), { actor: 'test' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImageConflict);
    expect((error as ImageConflict).current).toMatchObject({ status: 'queued', name: 'renamed', version: 2 });
  });

  it('makes every kill say why and drop its pending upload, in the same write', async () => {
    const image = queuedImage();
    await db.images.create(image);
    const upload = {
      kind: 'file' as const,
      key: `images/${image.id}/u1`,
      declared_size: 10,
      deadline: '2099-01-01T00:00:00.000Z',
    };
    const saving = await db.images.transition(image, decideImage(image, 'uploadStart'), {
      actor: 'test',
      set: { upload },
    });
    await db.images.transition(saving, decideImage(saving, 'uploadReject'), {
      actor: 'system:s3-trigger',
      reason: 'Size mismatch: 10 bytes declared, 12 bytes received.',
      failure: 'size-mismatch',
    });
    const killed = await db.images.get(image.id);
    expect(killed).toMatchObject({
      status: 'killed',
      upload: null,
      properties: { os_glance_failure_reason: 'Size mismatch: 10 bytes declared, 12 bytes received.' },
    });
    expect((await storedHistory(db.images, image.id)).at(-1)).toMatchObject({
      to: 'killed',
      failure: 'size-mismatch',
    });
    expect(
      (await db.images.expiredUploads({ before: '2100-01-01T00:00:00.000Z', limit: 100 })).ids,
    ).not.toContain(image.id);
  });

  it('lets exactly one of 50 concurrent conflicting transitions win', async () => {
    const image = queuedImage();
    await db.images.create(image);
    const triggers = ['uploadStart', 'stageStart', 'delete'] as const;
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, index) => {
        const trigger = triggers[index % triggers.length] ?? 'delete';
        return db.images.transition(image, decideImage(image, trigger), { actor: `racer-${index}` });
      }),
    );
    const winners = results.filter((result) => result.status === 'fulfilled');
    const losers = results.filter((result) => result.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(49);
    for (const loser of losers) expect((loser as PromiseRejectedResult).reason).toBeInstanceOf(ImageConflict);
    const stored = await db.images.get(image.id);
    expect(await storedHistory(db.images, image.id)).toHaveLength(2);
    expect(stored?.version).toBe(2);
  });

  it('drops deleted images from both indexes', async () => {
    const image = queuedImage({ owner: 'p-index-test' });
    await db.images.create(image);
    const before = await db.images.queryIndex({
      index: 'gsi1',
      partition: 'OWNER#p-index-test',
      descending: true,
      limit: 10,
    });
    expect(before.images.map((found) => found.id)).toEqual([image.id]);
    await db.images.transition(image, decideImage(image, 'delete'), { actor: 'test' });
    const after = await db.images.queryIndex({
      index: 'gsi1',
      partition: 'OWNER#p-index-test',
      descending: true,
      limit: 10,
    });
    expect(after.images).toEqual([]);
  });
});

describe('property names chosen by clients', () => {
  const owner = 'p-hostile-names';
  const properties = objectOf(PROTOTYPE_NAMES.map((name) => [name, `value of ${name}`]));

  it('round-trips every prototype-ish name through create, get, update, transition and the index', async () => {
    const image = queuedImage({ owner, properties });
    await db.images.create(image);
    expect((await db.images.get(image.id))?.properties).toEqual(properties);

    const changed = objectOf([...Object.entries(properties), ['constructor', 'changed']]);
    const updated = await db.images.update(image, { properties: changed });
    expect(Object.entries((await db.images.get(image.id))?.properties ?? {})).toEqual(
      Object.entries(changed),
    );

    const saving = await db.images.transition(updated, decideImage(updated, 'uploadStart'), {
      actor: 'test',
    });
    await db.images.transition(saving, decideImage(saving, 'uploadReject'), {
      actor: 'test',
      reason: 'Size mismatch.',
      removeProperties: ['__proto__'],
    });
    const killed = await db.images.get(image.id);
    const { __proto__: _dropped, ...kept } = changed;
    expect(Object.keys(killed?.properties ?? {})).not.toContain('__proto__');
    expect(killed?.properties).toEqual({ ...kept, os_glance_failure_reason: 'Size mismatch.' });

    const listed = await db.images.queryIndex({
      index: 'gsi1',
      partition: `OWNER#${owner}`,
      descending: true,
      limit: 10,
    });
    expect(listed.images.map((found) => found.properties)).toEqual([killed?.properties]);
    expect((await db.images.getMany([image.id]))[0]?.properties).toEqual(killed?.properties);
  });

  it('never stores a client-chosen name as a DynamoDB map key', async () => {
    const image = queuedImage({ owner, properties });
    await db.images.create(image);
    const { Item } = await db.doc.send(
      new GetCommand({ TableName: db.emulators.tableName, Key: imageKey(image.id), ConsistentRead: true }),
    );
    expect(Item?.properties).toEqual(Object.entries(properties));
  });
});
