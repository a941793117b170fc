/**
 * `npm run bench -- multipart`, first part: how long the presign API functions take to sign one page of part
 * URLs (`PRESIGN_MAX_PART_URLS`, default 1000, at most 10,000), with the S3 client and the signer
 * they use (shared/storage/presign.ts). Signing is local CPU work (no request to S3), so the time on
 * a Lambda function follows from its CPU share: Lambda gives one vCPU per 1769 MB; the derived rows
 * scale the measured time to the presign functions' memory (infra/routes.ts) and compare it with
 * their timeout, and with what it would be at the API functions' default 256 MB.
 *
 * Second part, through the local stack: how long `.../complete` takes to answer (the checks, with
 * ListParts, and the asynchronous invoke) for an upload of many parts, and how long after its 202
 * the assembled object appears (the completion function's CompleteMultipartUpload on s3rver).
 */

import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { startLocalStack } from '#infra/local/stack';
import { routes } from '#infra/routes';
import { createS3Client } from '#shared/runtime';
import { presignMaxPartUrls } from '#shared/settings';
import { ObjectStore } from '#shared/storage/object-store';
import { presignUploadPart } from '#shared/storage/presign';
import type { BenchRow } from './table.ts';

const MB_PER_VCPU = 1769;
const DEFAULT_MEMORY_MB = 256;
const presignRoute = routes.find((route) => route.name === 'PresignImageUpload');
const MEMORY_MB = presignRoute?.memoryMb ?? DEFAULT_MEMORY_MB;
const TIMEOUT_MS = (presignRoute?.timeoutSeconds ?? 10) * 1000;

/** CPU milliseconds to sign `count` UploadPart URLs, as `presignParts` does (all at once). */
const signPage = async (store: ObjectStore, count: number): Promise<number> => {
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: count }, (_, index) =>
      presignUploadPart(
        store,
        {
          key: 'images/00000000-0000-4000-8000-000000000000/upload',
          uploadId: 'x'.repeat(128),
          partNumber: index + 1,
          size: 64 * 1024 * 1024,
        },
        900,
      ),
    ),
  );
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000;
};

export const runPresignBench = async (): Promise<BenchRow[]> => {
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'secret';
  const store = new ObjectStore(createS3Client(), 'glance-images-bench');
  const rows: BenchRow[] = [];
  const scale = MB_PER_VCPU / MEMORY_MB;
  const at = (ms: number, metric: string, target?: string): BenchRow[] => [
    { metric: `${metric} at ${MEMORY_MB} MB (CPU × ${scale.toFixed(2)})`, value: ms * scale, unit: 'ms' },
    {
      metric: `${metric} at ${MEMORY_MB} MB, of the ${TIMEOUT_MS / 1000} s timeout`,
      value: (ms * scale) / TIMEOUT_MS,
      unit: 'ratio',
      target,
    },
  ];
  // The first page includes what a cold function pays once (signer, credentials, endpoint rules).
  const first = await signPage(store, presignMaxPartUrls.default);
  rows.push({ metric: `first page of ${presignMaxPartUrls.default} URLs, CPU`, value: first, unit: 'ms' });
  rows.push(...at(first, `first page of ${presignMaxPartUrls.default}`, '<= 0.5'));
  for (const count of [presignMaxPartUrls.default, presignMaxPartUrls.max]) {
    const runs: number[] = [];
    for (let run = 0; run < 5; run++) runs.push(await signPage(store, count));
    const median = runs.sort((a, b) => a - b)[2] ?? Number.NaN;
    rows.push({ metric: `page of ${count} URLs, CPU (median of 5)`, value: median, unit: 'ms' });
    rows.push(...at(median, `page of ${count}`, '<= 0.5'));
    rows.push({
      metric: `page of ${count} at ${DEFAULT_MEMORY_MB} MB (CPU × ${(MB_PER_VCPU / DEFAULT_MEMORY_MB).toFixed(2)})`,
      value: (median * MB_PER_VCPU) / DEFAULT_MEMORY_MB,
      unit: 'ms',
    });
  }
  return rows;
};

const COMPLETE_PARTS = 500;
const COMPLETE_PART_BYTES = 20_000;

export const runCompleteBench = async (): Promise<BenchRow[]> => {
  Object.assign(process.env, {
    MULTIPART_THRESHOLD_BYTES: '1',
    MULTIPART_PART_SIZE_BYTES: String(COMPLETE_PART_BYTES),
    SWEEP_INTERVAL_SECONDS: '0',
    LOCAL_FINALISER: 'off',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  const stack = await startLocalStack({ port: 0, persist: false });
  try {
    const token = await stack.signToken({ project: 'bench', roles: ['member'], user: 'bench' });
    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${stack.url}${path}`, {
        method,
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return {
        status: response.status,
        json: (await response.json().catch(() => null)) as unknown,
      };
    };
    const image = (await api('POST', '/v2/images', { disk_format: 'raw', container_format: 'bare' }))
      .json as {
      id: string;
    };
    const size = COMPLETE_PARTS * COMPLETE_PART_BYTES;
    const plan = (await api('POST', `/v2/images/${image.id}/file/presign`, { size })).json as {
      upload_id: string;
      parts: { part_number: number; url: string }[];
    };
    const chunk = new Uint8Array(COMPLETE_PART_BYTES);
    const parts: { part_number: number; etag: string }[] = [];
    for (let i = 0; i < plan.parts.length; i += 25) {
      parts.push(
        ...(await Promise.all(
          plan.parts.slice(i, i + 25).map(async (part) => {
            const response = await fetch(part.url, { method: 'PUT', body: chunk });
            return { part_number: part.part_number, etag: response.headers.get('etag') ?? '' };
          }),
        )),
      );
    }
    const started = performance.now();
    const answer = await api('POST', `/v2/images/${image.id}/file/complete`, {
      upload_id: plan.upload_id,
      parts,
    });
    const answered = performance.now() - started;
    if (answer.status !== 202) throw new Error(`complete answered ${answer.status}`);
    await stack.lambda.idle();
    const assembled = performance.now() - started;
    const s3 = createS3Client(stack.s3Endpoint);
    await s3.send(
      new HeadObjectCommand({ Bucket: stack.bucketName, Key: `images/${image.id}/${plan.upload_id}` }),
    );
    return [
      {
        metric: `complete of ${COMPLETE_PARTS} parts: 202 after (checks, ListParts, invoke)`,
        value: answered,
        unit: 'ms',
      },
      {
        metric: `complete of ${COMPLETE_PARTS} parts: object assembled after (local s3rver)`,
        value: assembled,
        unit: 'ms',
      },
    ];
  } finally {
    await stack.stop();
  }
};
