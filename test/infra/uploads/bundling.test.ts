/**
 * The S3 trigger as Lambda runs it: bundled by CDK's local esbuild into one ESM file (Powertools
 * idempotency, the SDK and the eval'd sha512 worker thread included), then invoked with an S3 event
 * for a 20 MiB object in the local emulators, large enough to take the two-thread hashing path.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, expect, it } from 'vitest';
import { GlanceFunction } from '#infra/constructs/glance-function';
import { FINALISE_ENTRY } from '#infra/functions';
import { localEnvironment, startEmulators } from '#infra/local/emulators';
import { PARALLEL_MIN_BYTES } from '#shared/data/parallel-digest';
import { applyTrigger } from '#shared/images/actions';
import { newImage } from '#shared/images/create';
import { ImageRepository } from '#shared/images/repository';
import { MemberRepository } from '#shared/members/repository';
import { createDocumentClient, createS3Client } from '#shared/runtime';

const outdir = mkdtempSync(join(tmpdir(), 'glance-bundling-uploads-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

it('bundles the finaliser into a working ESM handler that hashes on two threads', async () => {
  const app = new App({ outdir });
  new GlanceFunction(new Stack(app, 'FinaliseBundle'), 'Finalise', { entry: FINALISE_ENTRY });
  app.synth();
  const [asset] = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
  const bundle = join(outdir, asset ?? '', 'index.mjs');

  const emulators = await startEmulators({ tableName: 'bundle-test', bucketName: 'bundle-test' });
  try {
    Object.assign(process.env, localEnvironment(emulators), { POWERTOOLS_LOG_LEVEL: 'ERROR' });
    const images = new ImageRepository(
      createDocumentClient(emulators.dynamoEndpoint),
      emulators.tableName,
      new MemberRepository(createDocumentClient(emulators.dynamoEndpoint), emulators.tableName),
    );
    const caller = { userId: 'u', projectId: 'p', roles: ['member'], isAdmin: false };
    const image = newImage({ name: 'bundle', disk_format: 'raw', container_format: 'bare' }, caller);
    await images.create(image);
    const data = randomBytes(PARALLEL_MIN_BYTES + 4 * 1024 ** 2);
    const key = `images/${image.id}/9f0b5f8e-1d7a-4a8b-9c4e-0d2f6b7a8c9d`;
    await applyTrigger(images, image, 'uploadStart', {
      actor: 'system:test',
      set: {
        upload: {
          kind: 'file',
          key,
          declared_size: data.length,
          deadline: new Date(Date.now() + 60_000).toISOString(),
        },
      },
    });
    const s3 = createS3Client(emulators.s3Endpoint);
    await s3.send(new PutObjectCommand({ Bucket: emulators.bucketName, Key: key, Body: data }));
    s3.destroy();

    const { handler } = await import(pathToFileURL(bundle).href);
    const record = {
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: emulators.bucketName }, object: { key, size: data.length, sequencer: '01' } },
    };
    const context = {
      functionName: 'Finalise',
      awsRequestId: 'test',
      getRemainingTimeInMillis: () => 60_000,
    };
    expect(await handler({ Records: [record] }, context)).toEqual([
      { key, outcome: 'activated', status: 'active' },
    ]);
    expect(await images.get(image.id)).toMatchObject({
      status: 'active',
      size: data.length,
      checksum: createHash('md5').update(data).digest('hex'),
      os_hash_value: createHash('sha512').update(data).digest('hex'),
    });
  } finally {
    await emulators.stop();
  }
}, 60_000);
