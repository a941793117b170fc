/**
 * The sweeper within its time limit (decision D2): a run given a Lambda-like budget picks no image
 * once less than the reserve remains, and an object too large to hash within the whole run is not
 * re-finalised inline (that run would time out on it, every time) but killed and deleted. The timer
 * and the trigger are off; the test runs the sweeper itself with the budget it chooses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadContext } from '#shared/uploads/context';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import { createImage, historyOf, md5, objectExists, putTo, randomData, s3Of, showImage } from './helpers.ts';

let stack: TestStack;
let owner: string;
let ctx: UploadContext;

beforeAll(async () => {
  Object.assign(process.env, {
    UPLOAD_URL_SECONDS: '60',
    UPLOAD_GRACE_SECONDS: '0',
    SWEEP_REFINALISE_AFTER_SECONDS: '0',
    SWEEP_INTERVAL_SECONDS: '0',
    LOCAL_FINALISER: 'off',
  });
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: 'p-budget', roles: ['member'] });
  ctx = (await import('#shared/runtime')).uploadContext();
});
afterAll(() => stack.stop());

/** An image in `saving` whose object arrived (never finalised); its deadline passes at `LATER`. */
const expiredWithObject = async (data: Uint8Array) => {
  const image = await createImage(stack, owner);
  const plan = (
    await stack.api('POST', `/v2/images/${image.id}/file/presign`, {
      token: owner,
      body: { size: data.length },
    })
  ).json;
  expect((await putTo(plan.url, data, plan.headers)).status).toBe(200);
  return { id: image.id as string, key: `images/${image.id}/${plan.upload_id}` };
};

/** The sweep runs "two minutes from now", past every deadline these tests create: no sleeping, no race with the URLs' expiry. */
const LATER = () => new Date(Date.now() + 120_000);

const sweep = async (remainingMs: () => number, bytesPerSecond = 1000) => {
  const { sweepUploads } = await import('#shared/uploads/sweep');
  return sweepUploads(ctx, LATER(), { remainingMs, bytesPerSecond });
};

describe('the sweeper with a time budget', () => {
  it('picks no image once less than the reserve remains', async () => {
    const { id } = await expiredWithObject(randomData(100));
    const report = await sweep(() => 59_000);
    expect(report).toMatchObject({ stopped: true, swept: [], finalised: [], killed: [], skipped: [] });
    expect((await showImage(stack, owner, id)).status).toBe('saving');
  });

  it('kills an object too large to hash within the run and deletes it, and goes on with the rest', async () => {
    // 1000 bytes/s and 62 s left: 2000 bytes can be hashed after the 60 s reserve.
    const big = await expiredWithObject(randomData(5000));
    const small = randomData(500);
    const fits = await expiredWithObject(small);
    const report = await sweep(() => 62_000);
    expect(report.killed).toContain(big.id);
    expect(report.finalised).toContain(fits.id);
    expect(report.stopped).toBe(false);

    expect((await showImage(stack, owner, big.id)).status).toBe('killed');
    expect((await historyOf(stack, owner, big.id)).at(-1)).toMatchObject({
      from: 'saving',
      to: 'killed',
      trigger: 'uploadReject',
      actor: 'system:sweeper',
      reason: 'The data could not be verified within the function time limit: 5000 bytes.',
    });
    expect(await objectExists(s3Of(stack), stack.bucketName, big.key)).toBe(false);
    const images = (await import('#shared/runtime')).images();
    expect((await images.get(big.id))?.properties.os_glance_failure_reason).toContain('5000 bytes');

    expect(await showImage(stack, owner, fits.id)).toMatchObject({ status: 'active', checksum: md5(small) });
  });

  it('leaves an object that fits a whole run but not the time left for the next run', async () => {
    const { id, key } = await expiredWithObject(randomData(1500));
    let left = 62_000;
    // 2000 bytes at the start of the run; 500 once the first image was looked at.
    const report = await sweep(() => {
      const now = left;
      left = 60_500;
      return now;
    });
    expect(report.skipped).toContain(id);
    expect((await showImage(stack, owner, id)).status).toBe('saving');
    expect(await objectExists(s3Of(stack), stack.bucketName, key)).toBe(true);
  });
});
