/**
 * dynalite has no streams, so this replays what the stream would carry: the raw item before and
 * after each real repository write, fed to the B2 mapping. One event per transition, none for edits,
 * whatever names the client gave its properties.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { changeOf } from '#functions/events/publish-transitions';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/emulators';
import { transitionEvents } from '#shared/events';
import { newTaskRecord } from '#shared/import/records';
import { decideImage } from '#shared/status-rules';
import { imageKey, taskKey } from '#shared/table';
import { TaskRepository } from '#shared/tasks/repository';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
import { objectOf, PROTOTYPE_NAMES } from '#test/helpers/hostile';
import { queuedImage } from '#test/helpers/images';

let db: DynamoFixture;
beforeAll(async () => {
  db = await startDynamo();
});
afterAll(() => db.stop());

const raw = async (id: string) =>
  (
    await db.doc.send(
      new GetCommand({ TableName: db.emulators.tableName, Key: imageKey(id), ConsistentRead: true }),
    )
  ).Item;

it('turns real writes into one event per transition and none for edits', async () => {
  const image = queuedImage();
  const seen: string[] = [];
  const record = async (before: Record<string, unknown> | undefined) => {
    for (const event of transitionEvents({ old: before, new: await raw(image.id) })) {
      const detail = JSON.parse(event.Detail);
      seen.push(`${detail.from}->${detail.to}:${detail.trigger}`);
    }
  };

  await db.images.create(image);
  await record(undefined);
  let before = await raw(image.id);
  const renamed = await db.images.update(image, { name: 'renamed' });
  await record(before);
  before = await raw(image.id);
  const saving = await db.images.transition(renamed, decideImage(renamed, 'uploadStart'), { actor: 'test' });
  await record(before);
  before = await raw(image.id);
  await db.images.transition(saving, decideImage(saving, 'uploadReject'), {
    actor: 'test',
    reason: 'Size mismatch',
  });
  await record(before);

  expect(seen).toEqual(['null->queued:create', 'queued->saving:uploadStart', 'saving->killed:uploadReject']);
});

it('maps the raw stream items of an image and a task whose names and input are hostile', async () => {
  const lowLevel = new DynamoDBClient({
    endpoint: db.emulators.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const rawItem = async (key: Record<string, string>) =>
    (
      await lowLevel.send(
        new GetItemCommand({ TableName: db.emulators.tableName, Key: marshall(key), ConsistentRead: true }),
      )
    ).Item;
  const names = objectOf(PROTOTYPE_NAMES.map((name) => [name, name]));
  const image = queuedImage({ properties: names });
  await db.images.create(image);
  const before = await rawItem(imageKey(image.id));
  const saving = await db.images.transition(image, decideImage(image, 'uploadStart'), { actor: 'test' });
  const events = transitionEvents(
    changeOf({ dynamodb: { OldImage: before, NewImage: await rawItem(imageKey(image.id)) } } as never),
  );
  expect(events.map((event) => JSON.parse(event.Detail).to)).toEqual([saving.status]);

  const tasks = new TaskRepository(db.doc, db.emulators.tableName);
  const task = newTaskRecord({
    id: randomUUID(),
    type: 'import',
    input: { image_properties: names },
    owner: 'p',
    imageId: image.id,
    userId: 'u',
    requestId: undefined,
    now: new Date(),
  });
  await tasks.create(task);
  const created = transitionEvents(
    changeOf({ dynamodb: { NewImage: await rawItem(taskKey(task.id)) } } as never),
  );
  expect(created.map((event) => JSON.parse(event.Detail).to)).toEqual(['pending']);
});
