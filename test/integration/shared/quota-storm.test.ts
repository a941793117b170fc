/**
 * Quotas under a concurrent storm (docs/quotas.md): workers create images, start, finish, kill
 * and sweep uploads and stages, deactivate, delete, delay-delete, scrub and move images between
 * two projects, all at once, while a sweeper whose clock runs an hour ahead keeps resolving (and
 * fencing) every reservation in flight. No usage item ever passes a limit, and afterwards each
 * equals what its project's images hold.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ImageRepository } from '#shared/images/repository';
import { reconcileReservations, STALE_RESERVATION_SECONDS } from '#shared/quotas/reconcile';
import { type Limits, QUOTA_UNIT } from '#shared/quotas/usage';
import { repositoryOf } from '#test/helpers/crashes';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
import {
  heldByImages,
  type OpOutcome,
  PROJECTS,
  randomOp,
  seeded,
  withinLimits,
} from '#test/helpers/quota-ops';

let db: DynamoFixture;
let images: ImageRepository;
const LIMITS: Limits = {
  image_size_total: 8,
  image_stage_total: 6,
  image_count_total: 12,
  image_count_uploading: 4,
};
beforeAll(async () => {
  db = await startDynamo();
  images = repositoryOf(db, { limits: LIMITS });
});
afterAll(() => db.stop());

const later = () => new Date(Date.now() + 2 * STALE_RESERVATION_SECONDS * 1000);

it('never passes a limit, and leaves every usage item equal to what its images hold', async () => {
  const outcomes: OpOutcome[] = [];
  const overLimit: string[] = [];
  let running = true;
  const pendingDeletes = new Set<string>();

  const worker = async (seed: number) => {
    const random = seeded(seed);
    for (let op = 0; op < 40; op++) outcomes.push(await randomOp(images, random, pendingDeletes));
  };
  const sampler = async () => {
    while (running) {
      for (const project of PROJECTS) {
        const { usage } = await images.ledger.read(project);
        if (!withinLimits(usage, LIMITS, QUOTA_UNIT)) overLimit.push(`${project}: ${JSON.stringify(usage)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const hastySweeper = async () => {
    let runs = 0;
    while (running) {
      await reconcileReservations(images, later());
      runs += 1;
    }
    return runs;
  };

  const sampling = sampler();
  const sweeping = hastySweeper();
  await Promise.all(Array.from({ length: 12 }, (_, i) => worker(i + 1)));
  running = false;
  await sampling;
  expect(await sweeping).toBeGreaterThan(0);

  expect(overLimit).toEqual([]);
  const count = (outcome: OpOutcome) => outcomes.filter((o) => o === outcome).length;
  // The limits did bite, and most writes went through.
  expect(count('refused')).toBeGreaterThan(0);
  expect(count('written') + count('created') + count('moved')).toBeGreaterThan(outcomes.length / 3);

  // Every write finished: nothing is pending but what the hasty sweeper raced with.
  await reconcileReservations(images, later());
  const scrubbing = (await images.pendingScrubs({ before: '9999', limit: 1000 })).ids;
  for (const project of PROJECTS) {
    const quota = await images.ledger.read(project);
    expect(quota.pending).toEqual([]);
    expect(quota.usage).toEqual(await heldByImages(images, project, scrubbing));
    expect(withinLimits(quota.usage, LIMITS, QUOTA_UNIT)).toBe(true);
  }
}, 300_000);
