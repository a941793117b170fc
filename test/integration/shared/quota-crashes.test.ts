/**
 * Usage never drifts (docs/quotas.md#crashes): a write of an image stopped after any of its steps
 * (a fault hook), a write that would land late (held at its reservation while the sweeper runs),
 * and a process killed with SIGKILL while it writes at random, all leave a project's usage item
 * equal to what its images hold once the sweeper has resolved what was pending.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRecord } from '#shared/images/model';
import { ImageConflict, ImageRepository, type WriteStep } from '#shared/images/repository';
import { MemberRepository } from '#shared/members/repository';
import { UsageLedger } from '#shared/quotas/ledger';
import { reconcileReservations, STALE_RESERVATION_SECONDS } from '#shared/quotas/reconcile';
import { UNLIMITED } from '#shared/quotas/usage';
import { decideImage } from '#shared/status-rules';
import { imageKey } from '#shared/table';
import { Crash, LIFECYCLE, repositoryOf, runScript } from '#test/helpers/crashes';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
import { queuedImage } from '#test/helpers/images';
import { heldByImages, PROJECTS } from '#test/helpers/quota-ops';
import { killWriteLoop } from '#test/helpers/write-loop';

let db: DynamoFixture;
let healthy: ImageRepository;
beforeAll(async () => {
  db = await startDynamo();
  healthy = repositoryOf(db);
});
afterAll(() => db.stop());

const STEPS: readonly WriteStep[] = ['history-flushed', 'usage-reserved', 'image-written', 'usage-settled'];
/** Past the staleness bound: every reservation still pending now is one a crash left. */
const later = () => new Date(Date.now() + 2 * STALE_RESERVATION_SECONDS * 1000);

const scrubbing = async () => (await healthy.pendingScrubs({ before: '9999', limit: 1000 })).ids;

/** The usage item equals what the images hold, nothing pending, the project out of the due index. */
const expectSettled = async (project: string) => {
  const quota = await healthy.ledger.read(project);
  expect(quota.usage).toEqual(await heldByImages(healthy, project, await scrubbing()));
  expect(quota.pending).toEqual([]);
  expect((await healthy.ledger.dueProjects({ before: later(), limit: 100 })).projects).not.toContain(project);
};

describe('a write stopped after one of its steps', () => {
  it.each(STEPS)(
    'leaves usage right once the sweeper ran, after a stop after %s at any transition',
    async (step) => {
      const project = `p-crash-${step}`;
      for (let crashAt = 0; crashAt < LIFECYCLE.length; crashAt++) {
        const image = await healthy.create(queuedImage({ owner: project }));
        await runScript(
          healthy,
          repositoryOf(db, { crash: (s) => s === step }),
          image.id,
          LIFECYCLE,
          crashAt,
        );
      }
      const before = await healthy.ledger.read(project);
      // A stop after the reservation left usage counted for writes that never happened.
      if (step === 'usage-reserved') {
        expect(before.usage).not.toEqual(await heldByImages(healthy, project));
        expect(before.pending.length).toBeGreaterThan(0);
      }
      const report = await reconcileReservations(healthy, later());
      expect(report.released.length + report.settled.length).toBe(before.pending.length);
      await expectSettled(project);
    },
  );

  it.each(STEPS)('leaves usage right after a create stopped after %s', async (step) => {
    const project = `p-create-${step}`;
    const crashing = repositoryOf(db, { crash: (s) => s === step });
    const image = queuedImage({ owner: project });
    await crashing.create(image).catch((error: unknown) => {
      if (!(error instanceof Crash)) throw error;
    });
    // The id stays free for the client's retry, which counts once.
    if (step === 'usage-reserved') await healthy.create(image);
    await reconcileReservations(healthy, later());
    await expectSettled(project);
    expect((await healthy.ledger.read(project)).usage.image_count_total).toBe(1);
  });

  it.each(STEPS)('leaves both projects right after an owner change stopped after %s', async (step) => {
    const [from, to] = [`p-from-${step}`, `p-to-${step}`];
    let image = await healthy.create(queuedImage({ owner: from }));
    image = await healthy.transition(image, decideImage(image, 'locationAdd'), {
      actor: 'test',
      set: { size: 1234 },
    });
    await repositoryOf(db, { crash: (s) => s === step })
      .update(image, { owner: to })
      .catch((error: unknown) => {
        if (!(error instanceof Crash)) throw error;
      });
    // The next write of the image, whichever owner it ended with, supersedes what was pending.
    const now = (await healthy.get(image.id)) as ImageRecord;
    await healthy.transition(now, decideImage(now, 'deactivate'), { actor: 'test' });
    await reconcileReservations(healthy, later());
    await expectSettled(from);
    await expectSettled(to);
  });
});

describe('a write that landed but whose answer was lost', () => {
  /**
   * The document client as the SDK behaves when a write's answer is lost (a timeout, a dropped
   * connection): it sends the same request again. Every conditional write of an image item lands
   * once, then is sent again and fails its condition on its own result.
   */
  const retryingDoc = () =>
    new Proxy(db.doc, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: { input: Record<string, unknown> }) => {
          const input = command.input as { Key?: { sk?: string }; Item?: { sk?: string } };
          const sk = input.Key?.sk ?? input.Item?.sk;
          const isImageWrite =
            (command instanceof UpdateCommand || command instanceof PutCommand) && sk === imageKey('x').sk;
          if (isImageWrite) await target.send(command as UpdateCommand);
          return target.send(command as UpdateCommand);
        };
      },
    });

  it('is taken as landed, not given back: usage right at once, nothing left for the sweeper', async () => {
    const project = 'p-answer-lost';
    const retrying = new ImageRepository(
      retryingDoc(),
      db.emulators.tableName,
      new MemberRepository(db.doc, db.emulators.tableName),
      {
        ledger: new UsageLedger({ doc: db.doc, tableName: db.emulators.tableName }, UNLIMITED),
      },
    );
    let image = await retrying.create(queuedImage({ owner: project }));
    expect((await healthy.get(image.id))?.held?.token).toBe(image.held?.token);
    for (const step of LIFECYCLE) {
      const decision = decideImage(image, step.trigger);
      const written = await retrying
        .transition(image, decision, { actor: 'test', ...step.options?.(image) })
        .catch((error: unknown) => {
          // A write that changes no usage has no token to know itself by: the caller is told of
          // a conflict, and re-deciding on the image as it is finds the work done.
          if (
            !(error instanceof ImageConflict) ||
            ['upload', 'sweep', 'delete'].some((t) => step.trigger.startsWith(t))
          )
            throw error;
          return error.current as ImageRecord;
        });
      const stored = (await healthy.get(image.id)) as ImageRecord;
      expect(stored.version).toBe(image.version + 1);
      expect(stored.status).toBe(decision.kind === 'noop' ? image.status : decision.to);
      image = written;
      const quota = await healthy.ledger.read(project);
      expect(quota.pending).toEqual([]);
      expect(quota.usage).toEqual(await heldByImages(healthy, project, await scrubbing()));
    }
  });
});

describe('a write that would land after the sweeper gave its reservation up', () => {
  it('is fenced: it loses its condition, and usage stays right', async () => {
    const project = 'p-late';
    let image = await healthy.create(queuedImage({ owner: project }));
    let resume: () => void = () => {};
    const paused = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let reserved: () => void = () => {};
    const atReservation = new Promise<void>((resolve) => {
      reserved = resolve;
    });
    const slow = new ImageRepository(
      db.doc,
      db.emulators.tableName,
      new MemberRepository(db.doc, db.emulators.tableName),
      {
        ledger: new UsageLedger({ doc: db.doc, tableName: db.emulators.tableName }, UNLIMITED),
        afterStep: async (step) => {
          if (step !== 'usage-reserved') return;
          reserved();
          await paused;
        },
      },
    );
    const late = slow.transition(image, decideImage(image, 'uploadStart'), {
      actor: 'test',
      set: {
        upload: {
          kind: 'file',
          key: `images/${image.id}/u`,
          declared_size: 99,
          deadline: '2099-01-01T00:00:00.000Z',
        },
      },
    });
    await atReservation;
    const report = await reconcileReservations(healthy, later());
    expect(report.released).toHaveLength(1);
    image = (await healthy.get(image.id)) as ImageRecord;
    expect(image).toMatchObject({ status: 'queued', version: 2 });
    resume();
    await expect(late).rejects.toBeInstanceOf(ImageConflict);
    await expectSettled(project);
  });
});

describe('a process killed while it writes', () => {
  it('leaves every project right once the sweeper ran, whatever write the kill interrupted', async () => {
    let written = 0;
    for (let round = 0; round < 3; round++) {
      const { lines } = await killWriteLoop(
        [db.emulators.dynamoEndpoint, db.emulators.tableName, 'quota', String(1000 + round)],
        20 + Math.floor(Math.random() * 40),
        Math.floor(Math.random() * 40),
      );
      written += lines.length;
    }
    expect(written).toBeGreaterThan(60);
    await reconcileReservations(healthy, later());
    for (const project of PROJECTS) await expectSettled(project);
  }, 180_000);
});
