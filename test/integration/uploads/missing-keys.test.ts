/**
 * A read of a missing key answers 404 only to a role that may ListBucket the bucket; otherwise S3
 * answers 403 (infra/local/s3-access.ts). The local S3 is configured from the sweeper's and the
 * finaliser's synthesized policies, so a grant that makes AWS answer 403 (as a ListBucket limited
 * by `s3:prefix` did) makes the sweeper fail here exactly as it would on AWS: no expired upload
 * would ever go back to queued.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GlanceFunction } from '#infra/constructs/glance-function';
import { listBucketAllowed, type PolicyStatement, type S3AccessModel } from '#infra/local/s3-access';
import { ServerlessGlanceStack } from '#infra/stack';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import { roleStatementsIn } from '#test/helpers/role-statements';
import { jwtSynthContext } from '#test/helpers/synth-context';
import { createImage, s3Of, showImage } from './helpers.ts';

/** The S3 model of a function's role, from the stack as `cdk synth` builds it. */
let accessOf: (fn: (stack: ServerlessGlanceStack) => GlanceFunction) => S3AccessModel;

beforeAll(() => {
  const app = new App({
    context: jwtSynthContext(),
  });
  const synthesized = new ServerlessGlanceStack(app, 'MissingKeys');
  const statementsOf = roleStatementsIn(synthesized);
  accessOf = (pick) => ({ listBucket: listBucketAllowed(statementsOf(pick(synthesized))) });
}, 120_000);

/** What the local S3 tells the functions; each test sets it as the role it stands for. */
const access: S3AccessModel = { listBucket: true };
let stack: TestStack;
beforeAll(async () => {
  Object.assign(process.env, {
    UPLOAD_URL_SECONDS: '1',
    UPLOAD_GRACE_SECONDS: '0',
    SWEEP_INTERVAL_SECONDS: '0',
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
  });
  stack = await startTestStack({ s3Access: access });
});
afterAll(() => stack.stop());

/** An upload whose deadline has passed with no data, and a sweep run after it. */
const expiredUploadThenSweep = async (model: S3AccessModel) => {
  access.listBucket = model.listBucket;
  const token = await stack.tokenFor({ project: 'p-missing' });
  const image = await createImage(stack, token);
  const plan = await stack.api('POST', `/v2/images/${image.id}/file/presign`, { token, body: { size: 10 } });
  expect(plan.status).toBe(200);
  const { handler } = await import('#functions/uploads/sweep');
  const report = await handler({ time: new Date(Date.now() + 5000).toISOString() });
  return { report, image: await showImage(stack, token, image.id), key: plan.json.upload_id as string };
};

describe('S3 answers for missing keys, as the roles get them', () => {
  it('gives the sweeper and the finaliser ListBucket on the whole bucket', () => {
    expect(accessOf((s) => s.uploads.sweeper)).toEqual({ listBucket: true });
    expect(accessOf((s) => s.uploads.finalise)).toEqual({ listBucket: true });
  });

  it('sweeps an expired upload back to queued with the grants the stack gives', async () => {
    const { report, image } = await expiredUploadThenSweep(accessOf((s) => s.uploads.sweeper));
    expect(report.swept).toContain(image.id);
    expect(image.status).toBe('queued');
    expect(report.overdue).toEqual({ uploads: 0, imports: 0 });
  });

  it('without ListBucket, as on AWS: the missing object answers 403 and the sweeper cannot move on', async () => {
    const { report, image } = await expiredUploadThenSweep({ listBucket: false });
    expect(report.swept).not.toContain(image.id);
    expect(report.skipped).toContain(image.id);
    expect(image.status).toBe('saving');
    // An hour later it is still waiting: the stuck-images alarm's metric counts it.
    const { handler } = await import('#functions/uploads/sweep');
    const later = await handler({ time: new Date(Date.now() + 2 * 3600_000).toISOString() });
    expect(later.overdue.uploads).toBeGreaterThanOrEqual(1);
    await expect(
      s3Of(stack).send(
        new HeadObjectCommand({ Bucket: stack.bucketName, Key: `images/${image.id}/nothing` }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  });
});

describe('listBucketAllowed', () => {
  const bucket = { 'Fn::GetAtt': ['Bucket', 'Arn'] };
  const objects = { 'Fn::Join': ['', [bucket, '/images/*']] };
  it.each<[string, PolicyStatement[], boolean]>([
    ['unconditional on the bucket', [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket }], true],
    [
      'a wildcard action',
      [{ Effect: 'Allow', Action: ['s3:GetObject*', 's3:List*'], Resource: [bucket, objects] }],
      true,
    ],
    [
      'limited by s3:prefix',
      [
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: bucket,
          Condition: { StringLike: { 's3:prefix': ['images/*'] } },
        },
      ],
      false,
    ],
    ['on objects only', [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: objects }], false],
    ['denied', [{ Effect: 'Deny', Action: 's3:ListBucket', Resource: bucket }], false],
    ['not granted', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: objects }], false],
  ])('%s', (_, statements, allowed) => {
    expect(listBucketAllowed(statements)).toBe(allowed);
  });
});
