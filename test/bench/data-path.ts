/**
 * Data-path benchmark: the S3 trigger's finalisation of a 1 GiB object against this machine's own
 * single-pass md5+sha512 speed, and the trigger's peak memory for 64 MiB vs 1 GiB.
 *
 * Method
 * - The local emulators (dynalite, s3rver) run in this process; a 1 GiB (and a 64 MiB) object of
 *   random bytes is written to s3rver, and an image record waits for it in `saving`.
 * - Each measurement runs in a fresh child process (`node --import tsx`), so that it has a core of
 *   its own next to s3rver (two cores here) and its own peak RSS:
 *     `baseline`: md5 and sha512 updated together over 1 GiB held in a reused 1 MiB buffer,
 *                 i.e. the pure CPU cost of one pass, without any I/O;
 *     `finalise`: the deployed handler (functions/uploads/finalise.ts) given the S3 event record,
 *                 so it reads the object from s3rver, hashes it, checks limits and activates the
 *                 image in dynalite, exactly as the trigger does locally and on AWS.
 *   Throughput ratio = (bytes / finalise time) / (bytes / baseline time); target ≥ 0.9.
 * - Memory: the kernel's peak resident set of each finalise child (`resourceUsage().maxRSS`),
 *   64 MiB vs 1 GiB; target ≤ 1.2 (a streaming pass holds a few chunks whatever the size). The
 *   growth of the RSS during the handler call (peak minus the RSS after loading the modules,
 *   sampled every 2 ms) is printed too.
 *
 * `npm run bench` runs it through test/bench/run.ts; `npm run bench -- data-path` alone.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './table.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const SELF = fileURLToPath(import.meta.url);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface ChildResult {
  readonly ms: number;
  readonly bytes: number;
  readonly maxRssKb: number;
  readonly rssBeforeKb: number;
  readonly peakSampledKb: number;
  readonly outcome?: string;
  readonly reason?: string;
}

/** Writes `size` random-looking bytes (a random 1 MiB block, varied per block). */
const writeData = async (path: string, size: number) => {
  const block = randomBytes(MiB);
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += MiB) {
    block.writeUInt32BE(written / MiB, 0);
    const chunk = Buffer.from(block.subarray(0, Math.min(MiB, size - written)));
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
};

const runChild = (args: string[], env: Record<string, string>): Promise<ChildResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--worker', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0)
        return reject(new Error(`bench worker ${args.join(' ')} exited with ${code}: ${stdout}`));
      resolve(JSON.parse(line) as ChildResult);
    });
  });

export const runDataPathBench = async (): Promise<BenchRow[]> => {
  const { startEmulators, localEnvironment } = await import('#infra/local/emulators');
  const dir = await mkdtemp(join(tmpdir(), 'glance-bench-data-'));
  const emulators = await startEmulators({ tableName: 'glance-bench', bucketName: 'glance-bench' });
  const env = localEnvironment(emulators);
  Object.assign(process.env, env);
  try {
    const { CopyObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
    // The service's clients: without `WHEN_REQUIRED` checksums the SDK streams `aws-chunked`
    // bodies, which s3rver would store framing and all.
    const { createDocumentClient, createS3Client } = await import('#shared/runtime');
    const { ImageRepository } = await import('#shared/images/repository');
    const { applyTrigger } = await import('#shared/images/actions');
    const { newImage } = await import('#shared/images/create');
    const { uploadKey, newUploadId } = await import('#shared/storage/bucket');
    const s3 = createS3Client(emulators.s3Endpoint);
    const images = new ImageRepository(createDocumentClient(emulators.dynamoEndpoint), emulators.tableName);
    const caller = { userId: 'bench', projectId: 'bench', roles: ['member'], isAdmin: false };

    /** An image in `saving` waiting for an object of `declaredSize` bytes; returns the object's key. */
    const waitingImage = async (name: string, declaredSize: number) => {
      const image = newImage({ name, disk_format: 'raw', container_format: 'bare' }, caller);
      await images.create(image);
      const key = uploadKey('file', image.id, newUploadId());
      await applyTrigger(images, image, 'uploadStart', {
        actor: 'system:bench',
        set: {
          upload: {
            kind: 'file',
            key,
            declared_size: declaredSize,
            deadline: new Date(Date.now() + 3600_000).toISOString(),
          },
        },
      });
      return key;
    };

    /** An image in `saving` waiting for an object of `size` bytes, and that object in s3rver. */
    const prepare = async (size: number) => {
      const file = join(dir, `data-${size}`);
      await writeData(file, size);
      const key = await waitingImage(`bench-${size}`, size);
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: emulators.bucketName,
          Key: key,
          Body: createReadStream(file, { highWaterMark: MiB }),
          ContentLength: (await stat(file)).size,
        }),
      );
      await rm(file);
      return { key, eTag: (put.ETag ?? '').replace(/"/g, '') };
    };

    /** A second image waiting for a copy of an existing object (S3 CopyObject, no new file). */
    const prepareAgain = async (source: string) => {
      const key = await waitingImage('bench-again', GiB);
      const copy = await s3.send(
        new CopyObjectCommand({
          Bucket: emulators.bucketName,
          Key: key,
          CopySource: `${emulators.bucketName}/${source}`,
        }),
      );
      return { key, eTag: (copy.CopyObjectResult?.ETag ?? '').replace(/"/g, '') };
    };

    const small = await prepare(64 * MiB);
    const large = await prepare(GiB);
    const baseline = await runChild(['baseline', String(GiB)], env);
    const finaliseSmall = await runChild(['finalise', small.key, small.eTag, String(64 * MiB)], env);
    const finaliseLarge = await runChild(['finalise', large.key, large.eTag, String(GiB)], env);
    // The same 1 GiB again with one hashing thread (what a 1-vCPU Lambda does); the image is
    // active by now, so it is re-finalised on a fresh copy of the record.
    const again = await prepareAgain(large.key);
    const finaliseOneThread = await runChild(['finalise', again.key, again.eTag, String(GiB)], {
      ...env,
      DIGEST_THREADS: '1',
    });
    for (const result of [finaliseSmall, finaliseLarge, finaliseOneThread]) {
      if (result.outcome !== 'activated') {
        throw new Error(`finalisation ended ${result.outcome}: ${result.reason ?? ''}`);
      }
    }
    s3.destroy();

    const rate = (result: ChildResult) => result.bytes / MiB / (result.ms / 1000);
    return [
      { metric: 'single-pass md5+sha512, in memory (1 GiB)', value: rate(baseline), unit: 'MiB/s' },
      { metric: 'finalise 1 GiB (S3 read + hash + activate)', value: rate(finaliseLarge), unit: 'MiB/s' },
      {
        metric: 'finalise throughput / single-pass hash speed',
        value: rate(finaliseLarge) / rate(baseline),
        unit: 'ratio',
        target: '>= 0.9',
      },
      {
        metric: 'same, one hashing thread (DIGEST_THREADS=1) / single-pass',
        value: rate(finaliseOneThread) / rate(baseline),
        unit: 'ratio',
      },
      { metric: 'finalise 64 MiB', value: rate(finaliseSmall), unit: 'MiB/s' },
      { metric: 'finalise peak RSS, 64 MiB object', value: finaliseSmall.maxRssKb / 1024, unit: 'MiB' },
      { metric: 'finalise peak RSS, 1 GiB object', value: finaliseLarge.maxRssKb / 1024, unit: 'MiB' },
      {
        metric: 'peak RSS 1 GiB / 64 MiB',
        value: finaliseLarge.maxRssKb / finaliseSmall.maxRssKb,
        unit: 'ratio',
        target: '<= 1.2',
      },
      {
        metric: 'RSS growth during the call, 64 MiB object',
        value: (finaliseSmall.peakSampledKb - finaliseSmall.rssBeforeKb) / 1024,
        unit: 'MiB',
      },
      {
        metric: 'RSS growth during the call, 1 GiB object',
        value: (finaliseLarge.peakSampledKb - finaliseLarge.rssBeforeKb) / 1024,
        unit: 'MiB',
      },
    ];
  } finally {
    await emulators.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

// ---------------------------------------------------------------------------------------------
// Worker side (a child process)

const rssKb = () => Math.round(process.memoryUsage().rss / 1024);

const sampler = () => {
  let peak = rssKb();
  const timer = setInterval(() => {
    peak = Math.max(peak, rssKb());
  }, 2);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssKb());
    },
  };
};

const worker = async (mode: string, args: string[]): Promise<ChildResult> => {
  if (mode === 'baseline') {
    const bytes = Number(args[0]);
    const chunk = randomBytes(MiB);
    const rssBeforeKb = rssKb();
    const start = performance.now();
    const md5 = createHash('md5');
    const sha512 = createHash('sha512');
    for (let done = 0; done < bytes; done += MiB) {
      md5.update(chunk);
      sha512.update(chunk);
    }
    md5.digest('hex');
    sha512.digest('hex');
    const ms = performance.now() - start;
    return { ms, bytes, maxRssKb: process.resourceUsage().maxRSS, rssBeforeKb, peakSampledKb: rssKb() };
  }
  const [key = '', eTag = '', size = '0'] = args;
  const { handler } = await import('#functions/uploads/finalise');
  const context = {
    functionName: 'Finalise',
    awsRequestId: 'bench',
    getRemainingTimeInMillis: () => 900_000,
  } as unknown as Parameters<typeof handler>[1];
  const event = {
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        s3: {
          bucket: { name: process.env.BUCKET_NAME ?? '' },
          object: { key, eTag, size: Number(size), sequencer: Date.now().toString(16) },
        },
      },
    ],
  } as unknown as Parameters<typeof handler>[0];
  const rssBeforeKb = rssKb();
  const memory = sampler();
  const start = performance.now();
  const [result] = await handler(event, context);
  const ms = performance.now() - start;
  const peakSampledKb = memory.stop();
  return {
    ms,
    bytes: Number(size),
    maxRssKb: process.resourceUsage().maxRSS,
    rssBeforeKb,
    peakSampledKb,
    outcome: result?.outcome,
    reason: result?.reason,
  };
};

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv[2] === '--worker') {
  const [mode = '', ...args] = process.argv.slice(3);
  const result = await worker(mode, args);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
