/**
 * The history (B1, docs/lifecycle.md#how-it-is-stored) loses and duplicates nothing when a
 * transition stops between its steps: after each step of each transition of a lifecycle (a fault
 * hook in the repository), and at random points of a process killed with SIGKILL while it
 * transitions in a loop. The image item keeps one entry whatever the number of transitions.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry, ImageRecord } from '#shared/images/model';
import type { ImageRepository, WriteStep } from '#shared/images/repository';
import { itemSize } from '#shared/item-size';
import { decideImage, isActive } from '#shared/status-rules';
import { imageKey } from '#shared/table';
import { LIFECYCLE, repositoryOf, runScript } from '#test/helpers/crashes';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
import { queuedImage, storedHistory } from '#test/helpers/images';
import { killWriteLoop } from '#test/helpers/write-loop';

let db: DynamoFixture;
let healthy: ImageRepository;
beforeAll(async () => {
  db = await startDynamo();
  healthy = repositoryOf(db);
});
afterAll(() => db.stop());

const STEPS: readonly WriteStep[] = ['history-flushed', 'usage-reserved', 'image-written', 'usage-settled'];
const TO = [
  'saving',
  'queued',
  'saving',
  'active',
  'deactivated',
  'active',
  'deactivated',
  'active',
  'deleted',
];

/** Every version once, in order, each entry starting where the previous one ended. */
const expectWhole = (history: readonly HistoryEntry[], image: ImageRecord) => {
  const versions = history.map((entry) => entry.version);
  expect(new Set(versions).size).toBe(versions.length);
  expect(versions).toEqual([...versions].sort((a, b) => a - b));
  history.forEach((entry, index) => {
    expect(entry.from).toBe(index === 0 ? null : history[index - 1]?.to);
  });
  expect(history.at(-1)?.to).toBe(image.status);
  expect(image.outbox).toHaveLength(1);
};

describe('history when a transition stops between its steps', () => {
  it.each(STEPS)('has every entry exactly once after a stop after %s, at any transition', async (step) => {
    for (let crashAt = 0; crashAt < LIFECYCLE.length; crashAt++) {
      const image = await healthy.create(queuedImage({ owner: 'p-history' }));
      const crashed = await runScript(
        healthy,
        repositoryOf(db, { crash: (s) => s === step }),
        image.id,
        LIFECYCLE,
        crashAt,
      );
      // Transitions that change no usage have no reservation step to stop after.
      if (step !== 'usage-reserved' && step !== 'usage-settled') expect(crashed).toBe(true);
      const history = await storedHistory(healthy, image.id);
      expect(history.map((entry) => entry.to)).toEqual(['queued', ...TO]);
      expectWhole(history, (await healthy.get(image.id)) as ImageRecord);
    }
  });
});

describe('history when the writing process is killed', () => {
  it('has every entry exactly once, whatever write the kill interrupted', async () => {
    let image = await healthy.create(queuedImage({ owner: 'p-history-kill' }));
    image = await healthy.transition(image, decideImage(image, 'locationAdd'), { actor: 'test' });
    for (let round = 0; round < 3; round++) {
      await killWriteLoop(
        [db.emulators.dynamoEndpoint, db.emulators.tableName, 'cycle', image.id],
        5 + Math.floor(Math.random() * 20),
        Math.floor(Math.random() * 40),
      );
    }
    // One more transition after the kills flushes what the last one left in the outbox.
    image = (await healthy.get(image.id)) as ImageRecord;
    image = await healthy.transition(
      image,
      decideImage(image, isActive(image.status) ? 'deactivate' : 'reactivate'),
      {
        actor: 'test',
      },
    );
    const history = await storedHistory(healthy, image.id, 7);
    // Only transitions wrote this image: one entry per version, none missing.
    expect(history.map((entry) => entry.version)).toEqual(
      Array.from({ length: image.version }, (_, i) => i + 1),
    );
    expectWhole(history, image);
  }, 120_000);
});

describe('history without bound on the item', () => {
  it('keeps the image item the same size over hundreds of deactivate/reactivate cycles, and pages them all', async () => {
    let image = await healthy.create(queuedImage({ owner: 'p-history-long' }));
    image = await healthy.transition(image, decideImage(image, 'locationAdd'), { actor: 'test' });
    const raw = async () =>
      itemSize(
        (
          await db.doc.send(
            new GetCommand({
              TableName: db.emulators.tableName,
              Key: imageKey(image.id),
              ConsistentRead: true,
            }),
          )
        ).Item ?? {},
      );
    const cycles = 300;
    let afterFirst = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      image = await healthy.transition(image, decideImage(image, 'deactivate'), {
        actor: 'user:u@project:p',
      });
      image = await healthy.transition(image, decideImage(image, 'reactivate'), {
        actor: 'user:u@project:p',
      });
      // Versions grow by a digit now and then; nothing else grows.
      if (cycle === 49) afterFirst = await raw();
    }
    expect(await raw()).toBeLessThanOrEqual(afterFirst + 2);
    const history = await storedHistory(healthy, image.id, 100);
    expect(history).toHaveLength(2 + 2 * cycles);
    expectWhole(history, image);
  }, 120_000);
});
