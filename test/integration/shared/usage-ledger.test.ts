/**
 * The ledger's reservation condition against a real DynamoDB API (docs/quotas.md#reservations):
 * a quota the project has never used has no usage attribute yet, which must count as 0, not as
 * room for anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageLedger } from '#shared/quotas/ledger';
import { NO_USAGE, QuotaExceeded, UNLIMITED } from '#shared/quotas/usage';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';

let db: DynamoFixture;
let ledger: UsageLedger;
beforeAll(async () => {
  db = await startDynamo();
  ledger = new UsageLedger({ doc: db.doc, tableName: db.emulators.tableName }, UNLIMITED);
});
afterAll(() => db.stop());

const change = (project: string, delta: Partial<typeof NO_USAGE>) => ({
  token: `image-${project}/1/0`,
  deltas: [{ project, delta: { ...NO_USAGE, ...delta } }],
  held: { ...NO_USAGE, ...delta, token: `image-${project}/1/0`, projects: [project] },
});

describe('a reservation on a quota the project has not used yet', () => {
  it.each([
    ['an override it has already seen', true],
    ['an override it has not seen', false],
  ])('is refused when the increase alone passes %s', async (_, seen) => {
    const project = `p-fresh-${seen}`;
    await ledger.setLimit(project, 'image_stage_total', 0);
    if (seen) await ledger.read(project);
    const refused = ledger.reserve(change(project, { image_stage_total: 1 }));
    await expect(refused).rejects.toBeInstanceOf(QuotaExceeded);
    await expect(refused).rejects.toThrow(
      /Resource image_stage_total is over limit of 0 due to current usage 0/,
    );
    expect(await ledger.read(project)).toMatchObject({
      usage: { image_stage_total: 0 },
      pending: [],
    });
  });

  it("is refused when the increase alone passes the deployment's limit", async () => {
    const deployment = new UsageLedger(
      { doc: db.doc, tableName: db.emulators.tableName },
      { ...UNLIMITED, image_size_total: 1 },
    );
    await deployment.reserve(change('p-deployment', { image_count_total: 1 }));
    const refused = deployment.reserve({
      ...change('p-deployment', { image_size_total: 2 * 1024 ** 2 }),
      token: 'image-p-deployment/2/0',
    });
    await expect(refused).rejects.toThrow(
      /Resource image_size_total is over limit of 1 due to current usage 0/,
    );
    expect((await deployment.read('p-deployment')).usage.image_size_total).toBe(0);
  });

  it('passes when the increase fits', async () => {
    await ledger.setLimit('p-fits', 'image_stage_total', 1);
    await ledger.read('p-fits');
    await ledger.reserve(change('p-fits', { image_stage_total: 1024 }));
    expect((await ledger.read('p-fits')).usage.image_stage_total).toBe(1024);
  });
});
