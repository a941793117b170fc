/**
 * Import benchmark: how long the glance-direct workflow takes to turn a staged 256 MiB image into
 * an active one (POST /import → `active`: Mark, Fetch, Verify's one hashing pass, Promote's
 * server-side copy, Activate, Complete), as a ratio of the time it takes to hash the same bytes
 * once in memory (`digestStream`, md5 + sha512) in the same run. The ratio is what the workflow
 * costs on top of the hashing it cannot avoid; the absolute times depend on the machine.
 *
 * Runs the local stack (dynalite, s3rver on a temporary directory, the local Step Functions) in
 * this process. `npm run bench -- import` runs it alone.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalStack } from '#infra/local/stack';
import { digestStream } from '#shared/data/digest';
import { ImageRepository } from '#shared/images/repository';
import { MemberRepository } from '#shared/members/repository';
import { createDocumentClient, createS3Client } from '#shared/runtime';
import { decideImage } from '#shared/status-rules';
import type { BenchRow } from './table.ts';

const MiB = 1024 ** 2;
const SIZE = 256 * MiB;
const CHUNK = MiB;

/** Deterministic, incompressible-enough bytes, built once and reused for every measurement. */
const makeData = (): Buffer => {
  const data = Buffer.allocUnsafe(SIZE);
  let x = 0x9e3779b9;
  for (let i = 0; i < SIZE; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data.writeUInt32LE(x >>> 0, i);
  }
  return data;
};

async function* chunksOf(data: Buffer) {
  for (let offset = 0; offset < data.byteLength; offset += CHUNK) yield data.subarray(offset, offset + CHUNK);
}

const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

export const runImportBench = async (): Promise<BenchRow[]> => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const data = makeData();

  // Warm the hash code paths, then time one pass over the same bytes the import will hash.
  await digestStream(chunksOf(data.subarray(0, 16 * MiB)));
  let started = process.hrtime.bigint();
  const expected = await digestStream(chunksOf(data));
  const hashMs = since(started);

  const stack = await startLocalStack({ port: 0, persist: false });
  try {
    const token = await stack.signToken({ project: 'bench', roles: ['member'], user: 'bench' });
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${stack.url}${path}`, {
        method,
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const images = new ImageRepository(
      createDocumentClient(stack.dynamoEndpoint),
      stack.tableName,
      new MemberRepository(createDocumentClient(stack.dynamoEndpoint), stack.tableName),
    );
    const s3 = createS3Client(stack.s3Endpoint);

    // A warm-up import of a small image: loads the handlers and synthesizes the definition.
    const importOnce = async (bytes: Buffer) => {
      const created = (await (
        await api('POST', '/v2/images', { name: 'bench', disk_format: 'raw', container_format: 'bare' })
      ).json()) as { id: string };
      // The data path's contract: uploading with size and data_key, the object at the staging key.
      const key = `staging/${created.id}/${randomUUID()}`;
      let image = await images.get(created.id);
      if (!image) throw new Error('image vanished');
      image = await images.transition(image, decideImage(image, 'stageStart'), { actor: 'bench' });
      await images.transition(image, decideImage(image, 'stageFinish'), {
        actor: 'bench',
        set: { size: bytes.byteLength, data_key: key },
      });
      const staging = process.hrtime.bigint();
      await s3.send(
        new PutObjectCommand({
          Bucket: stack.bucketName,
          Key: key,
          Body: bytes,
          ContentLength: bytes.byteLength,
        }),
      );
      const stageMs = since(staging);

      const importing = process.hrtime.bigint();
      const response = await api('POST', `/v2/images/${created.id}/import`, {
        method: { name: 'glance-direct' },
      });
      if (response.status !== 202)
        throw new Error(`import answered ${response.status}: ${await response.text()}`);
      const tasks = (await (await api('GET', `/v2/images/${created.id}/tasks`)).json()) as {
        tasks: { id: string }[];
      };
      const execution = await stack.stepFunctions.waitFor(tasks.tasks[0]?.id ?? '', 600_000);
      const importMs = since(importing);
      const shown = (await (await api('GET', `/v2/images/${created.id}`)).json()) as Record<string, unknown>;
      if (execution.status !== 'SUCCEEDED' || shown.status !== 'active') {
        throw new Error(
          `import ended ${execution.status}, image ${String(shown.status)}: ${execution.cause}`,
        );
      }
      return { stageMs, importMs, shown };
    };

    await importOnce(data.subarray(0, MiB));
    started = process.hrtime.bigint();
    const { stageMs, importMs, shown } = await importOnce(data);
    if (shown.os_hash_value !== expected.os_hash_value || shown.checksum !== expected.checksum) {
      throw new Error('the imported image has the wrong hashes');
    }
    return [
      { metric: 'import.hash_256mib_once', value: Math.round(hashMs), unit: 'ms' },
      { metric: 'import.stage_put_256mib', value: Math.round(stageMs), unit: 'ms' },
      { metric: 'import.glance_direct_256mib_import_to_active', value: Math.round(importMs), unit: 'ms' },
      {
        metric: 'import.glance_direct_256mib_ratio_to_hash',
        value: Math.round((importMs / hashMs) * 100) / 100,
        unit: 'x',
        target: '<= 3',
      },
    ];
  } finally {
    await stack.stop();
  }
};
