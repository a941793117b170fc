/**
 * dynalite has no streams, so this replays what the stream would carry: the raw item before and
 * after each real repository write, fed to the B2 mapping. One event per transition, none for edits.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { transitionEvents } from '#shared/events';
import { decideImage } from '#shared/status-rules';
import { imageKey } from '#shared/table';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
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
