/**
 * Locations in another bucket of the allow-list (`locationS3Allowed`, docs/locations.md#configuration). S3 answers a
 * read of a missing key with 404 only to a role that may ListBucket that bucket without conditions, 403 otherwise
 * (infra/local/s3-access.ts). The local S3 is configured from the Verify function's synthesized policy for the other
 * bucket, so a grant that makes AWS answer 403 (a ListBucket limited by `s3:prefix`) makes the import fail here as
 * it would on AWS: with an access error instead of "There is no object at …".
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GlanceFunction } from '#infra/constructs/glance-function';
import { listBucketAllowed, type S3AccessModel } from '#infra/local/s3-access';
import { ServerlessGlanceStack } from '#infra/stack';
import { roleStatementsIn } from '#test/helpers/role-statements';
import { jwtSynthContext } from '#test/helpers/synth-context';
import {
  createImage,
  randomBytesOf,
  sha512,
  showImage,
  useImportStack,
  waitForImport,
} from '../import/helpers.ts';

const PIPELINE = 'pipeline-images';
const ALLOWED = `s3://${PIPELINE}/golden/`;

/** The S3 model of a function's role, for the service bucket and the other one, from the stack as `cdk synth` builds it. */
let accessOf: (fn: (stack: ServerlessGlanceStack) => GlanceFunction | undefined) => S3AccessModel;

beforeAll(() => {
  const app = new App({
    context: jwtSynthContext({ 'serverless-glance:locationS3Allowed': [ALLOWED] }),
  });
  const synthesized = new ServerlessGlanceStack(app, 'ExternalLocations');
  const statementsOf = roleStatementsIn(synthesized);
  accessOf = (pick) => {
    const fn = pick(synthesized);
    if (!fn) throw new Error('no such function');
    const statements = statementsOf(fn);
    return {
      listBucket: listBucketAllowed(statements),
      buckets: { [PIPELINE]: listBucketAllowed(statements, PIPELINE) },
    };
  };
}, 120_000);

/** What the local S3 tells the functions; each test sets it as the role it stands for. */
const access: S3AccessModel = { listBucket: true };
const { stack } = useImportStack({ routes: {}, env: { LOCATION_S3_ALLOWED: ALLOWED }, s3Access: access });
beforeAll(async () => {
  await stack.s3.send(new CreateBucketCommand({ Bucket: PIPELINE }));
});

const verify = (s: ServerlessGlanceStack) => s.importWorkflow.functions.get('Verify');

/** Adds a location in the other bucket and waits for its import, S3 answering as `model` says. */
const importLocation = async (model: S3AccessModel, key: string) => {
  Object.assign(access, { buckets: undefined }, model);
  const image = await createImage(stack);
  const url = `s3://${PIPELINE}/${key}`;
  const added = await stack.api('POST', `/v2/images/${image.id}/locations`, {
    token: stack.owner,
    body: { url },
  });
  expect(added.status).toBe(202);
  const { task } = await waitForImport(stack, image.id);
  return { task, image: await showImage(stack, image.id), url };
};

describe('locations in another allowed bucket', () => {
  it('gives Verify and the download function ListBucket on that bucket without conditions', () => {
    for (const pick of [verify, (s: ServerlessGlanceStack) => s.api.functions.get('DownloadImageData')]) {
      expect(accessOf(pick)).toEqual({ listBucket: true, buckets: { [PIPELINE]: true } });
    }
  });

  it('imports an object there with the grants the stack gives', async () => {
    const data = randomBytesOf(4096);
    const key = `golden/${randomUUID()}.raw`;
    await stack.s3.send(new PutObjectCommand({ Bucket: PIPELINE, Key: key, Body: data }));
    const { task, image } = await importLocation(accessOf(verify), key);
    expect(task.status).toBe('success');
    expect(image).toMatchObject({ status: 'active', size: data.byteLength, os_hash_value: sha512(data) });
  });

  it('a missing object there: the image is killed because there is no object, not for a permission', async () => {
    const { task, image, url } = await importLocation(accessOf(verify), `golden/${randomUUID()}.raw`);
    expect(task.status).toBe('failure');
    expect(task.message).toContain(`There is no object at ${url}.`);
    expect(image.status).toBe('killed');
    expect(image.os_glance_failure_reason).toContain('There is no object at');
  });

  it('with a ListBucket limited by s3:prefix, as on AWS: the missing object answers 403 and the import fails on it', async () => {
    const key = `golden/${randomUUID()}.raw`;
    const { task, image } = await importLocation({ listBucket: true, buckets: { [PIPELINE]: false } }, key);
    expect(task.status).toBe('failure');
    expect(task.message).not.toContain('There is no object');
    expect(task.message).toContain('403');
    expect(image.status).toBe('killed');
    await expect(stack.s3.send(new HeadObjectCommand({ Bucket: PIPELINE, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    access.buckets = undefined;
  });
});
