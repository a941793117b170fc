/**
 * What the finaliser benchmarks share (data-path.ts, image-format.ts): the emulators in this
 * process with images waiting for their data, and measurements in fresh child processes
 * (`node --import tsx`), so that each has the CPUs to itself next to s3rver and its own peak RSS.
 *
 * Child modes:
 *   `baseline <bytes>`              md5 and sha512 updated together over a reused 1 MiB buffer:
 *                                   the CPU cost of one single-thread pass, without I/O;
 *   `finalise <key> <etag> <size>`  the deployed S3 trigger (functions/uploads/finalise.ts) given the
 *                                   object's event record: it reads the object from S3 (ranged
 *                                   reads), hashes and inspects it and activates the image;
 *   `read <key>`                    one plain GetObject stream of the object, read and dropped;
 *   `ranged <key>`                  the finaliser's ranged read of the object, read and dropped.
 * The child's S3 endpoint is `AWS_ENDPOINT_URL_S3` of the environment it is given (a throttling
 * proxy, say).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ContainerFormat, DiskFormat } from '#shared/images/model';

const MiB = 1024 ** 2;
const SELF = fileURLToPath(import.meta.url);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildResult {
  readonly ms: number;
  /** CPU time of the child (every thread) during the measurement: what load cannot inflate. */
  readonly cpuMs: number;
  readonly bytes: number;
  readonly maxRssKb: number;
  readonly rssBeforeKb: number;
  readonly peakSampledKb: number;
  readonly outcome?: string;
  readonly reason?: string;
}

/** MiB/s of a child's measurement. */
export const rateOf = (result: ChildResult): number => result.bytes / MiB / (result.ms / 1000);
/** CPU seconds a child spent per GiB. */
export const cpuPerGiB = (result: ChildResult): number => result.cpuMs / 1000 / (result.bytes / 1024 ** 3);

const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

/** Writes `size` random-looking bytes (a random 1 MiB block, varied per block). */
export const writeData = async (path: string, size: number): Promise<void> => {
  const block = randomBytes(MiB);
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += MiB) {
    block.writeUInt32BE(written / MiB, 0);
    // No disk-format signature: 0x55 0xaa at 510 would make the data an MBR disk.
    block[510] = 0;
    const chunk = Buffer.from(block.subarray(0, Math.min(MiB, size - written)));
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
};

export const runChild = (args: string[], env: Record<string, string>): Promise<ChildResult> =>
  new Promise((resolve, reject) => {
    // The objects just written (a GiB at a time) are flushed to disk first, so that the kernel's
    // writeback does not compete with the measurement for the cores.
    execFileSync('sync');
    // BENCH_CPU_PROF=<dir>: each child writes a V8 CPU profile there (open it in Chrome DevTools).
    const profile = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [];
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', SELF, '--worker', ...args], {
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

export interface Formats {
  readonly disk_format: DiskFormat;
  readonly container_format: ContainerFormat;
}

export interface BenchStore {
  /** The functions' environment, S3 and DynamoDB straight at the emulators. */
  readonly env: Record<string, string>;
  readonly s3Endpoint: string;
  /** An image in `saving` waiting for an object of `size` bytes; returns the object's key. */
  waitingImage(name: string, size: number, formats?: Formats): Promise<string>;
  /** Stores a file under `key`; returns its ETag (unquoted, as S3 events carry it). */
  putFile(key: string, file: string): Promise<string>;
  /** Copies an object (S3 CopyObject); returns the copy's ETag. */
  copy(source: string, key: string): Promise<string>;
  /** Deletes an object. */
  remove(key: string): Promise<void>;
  stop(): Promise<void>;
}

export const startBenchStore = async (): Promise<BenchStore> => {
  const { startEmulators, localEnvironment } = await import('#infra/local/emulators');
  const emulators = await startEmulators({ tableName: 'glance-bench', bucketName: 'glance-bench' });
  // The namespace the stack gives the functions' metrics.
  const env = { ...localEnvironment(emulators), POWERTOOLS_METRICS_NAMESPACE: 'ServerlessGlance' };
  Object.assign(process.env, env);
  const { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  // The service's clients: without `WHEN_REQUIRED` checksums the SDK streams `aws-chunked`
  // bodies, which s3rver would store framing and all.
  const { createDocumentClient, createS3Client } = await import('#shared/runtime');
  const { ImageRepository } = await import('#shared/images/repository');
  const { MemberReads } = await import('#shared/members/reads');
  const { applyTrigger } = await import('#shared/images/actions');
  const { newImage } = await import('#shared/images/create');
  const { uploadKey, newUploadId } = await import('#shared/storage/bucket');
  const s3 = createS3Client(emulators.s3Endpoint);
  const doc = createDocumentClient(emulators.dynamoEndpoint);
  const images = new ImageRepository(doc, emulators.tableName, new MemberReads(doc, emulators.tableName));
  const caller = { userId: 'bench', projectId: 'bench', roles: ['member'], isAdmin: false };
  const unquoted = (etag: string | undefined) => (etag ?? '').replace(/"/g, '');

  return {
    env,
    s3Endpoint: emulators.s3Endpoint,
    async waitingImage(name, size, formats = { disk_format: 'raw', container_format: 'bare' }) {
      const image = newImage({ name, ...formats }, caller);
      await images.create(image);
      const key = uploadKey('file', image.id, newUploadId());
      await applyTrigger(images, image, 'uploadStart', {
        actor: 'system:bench',
        set: {
          upload: {
            kind: 'file',
            key,
            declared_size: size,
            deadline: new Date(Date.now() + 3600_000).toISOString(),
          },
        },
      });
      return key;
    },
    async putFile(key, file) {
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: emulators.bucketName,
          Key: key,
          Body: createReadStream(file, { highWaterMark: MiB }),
          ContentLength: (await stat(file)).size,
        }),
      );
      return unquoted(put.ETag);
    },
    async copy(source, key) {
      const copy = await s3.send(
        new CopyObjectCommand({
          Bucket: emulators.bucketName,
          Key: key,
          CopySource: `${emulators.bucketName}/${source}`,
        }),
      );
      return unquoted(copy.CopyObjectResult?.ETag);
    },
    async remove(key) {
      await s3.send(new DeleteObjectCommand({ Bucket: emulators.bucketName, Key: key }));
    },
    async stop() {
      s3.destroy();
      await emulators.stop();
    },
  };
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

const baseline = (bytes: number): ChildResult => {
  const chunk = randomBytes(MiB);
  const rssBeforeKb = rssKb();
  const cpu = process.cpuUsage();
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
  return {
    ms,
    cpuMs: cpuMsSince(cpu),
    bytes,
    maxRssKb: process.resourceUsage().maxRSS,
    rssBeforeKb,
    peakSampledKb: rssKb(),
  };
};

const finalise = async (key: string, eTag: string, size: number): Promise<ChildResult> => {
  const { handler } = await import('#functions/uploads/finalise');
  const context = {
    functionName: 'Finalise',
    awsRequestId: 'bench',
    getRemainingTimeInMillis: () => 900_000,
  } as unknown as Parameters<typeof handler>[1];
  const event = (key: string, eTag: string, size: number) =>
    ({
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: {
            bucket: { name: process.env.BUCKET_NAME ?? '' },
            object: { key, eTag, size, sequencer: Date.now().toString(16) },
          },
        },
      ],
    }) as unknown as Parameters<typeof handler>[0];
  // Warm up first, as a deployed function is after its init: an event for an image that does not
  // exist loads every module (here compiled from TypeScript on first import, in the bundle already
  // loaded) and opens the DynamoDB and S3 connections, without reading data.
  if (!process.env.NO_WARMUP)
    await handler(event(`images/${randomUUID()}/${randomUUID()}`, 'warm-up', 1), context);
  const rssBeforeKb = rssKb();
  const memory = sampler();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const [result] = await handler(event(key, eTag, size), context);
  const ms = performance.now() - start;
  const cpuMs = cpuMsSince(cpu);
  const peakSampledKb = memory.stop();
  return {
    ms,
    cpuMs,
    bytes: size,
    maxRssKb: process.resourceUsage().maxRSS,
    rssBeforeKb,
    peakSampledKb,
    outcome: result?.outcome,
    reason: result?.reason,
  };
};

/** Reads what `open` gives to the end and drops it: the cost of a read alone. */
const drain = async (
  open: () => Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>,
): Promise<ChildResult> => {
  const rssBeforeKb = rssKb();
  const cpu = process.cpuUsage();
  const start = performance.now();
  let bytes = 0;
  for await (const chunk of await open()) bytes += chunk.byteLength;
  const ms = performance.now() - start;
  return {
    ms,
    cpuMs: cpuMsSince(cpu),
    bytes,
    maxRssKb: process.resourceUsage().maxRSS,
    rssBeforeKb,
    peakSampledKb: rssKb(),
  };
};

/** One plain GetObject stream. */
const readOnce = async (key: string): Promise<ChildResult> => {
  const { objectStore } = await import('#shared/runtime');
  return drain(async () => (await objectStore().read(key))?.body ?? []);
};

/** The finaliser's ranged read (reused range buffers), without hashing. */
const rangedOnce = async (key: string): Promise<ChildResult> => {
  const { objectStore } = await import('#shared/runtime');
  return drain(async () => (await objectStore().openRanged(key, { reuseBuffers: true }))?.chunks() ?? []);
};

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv[2] === '--worker') {
  const [mode = '', first = '', second = '', third = '0'] = process.argv.slice(3);
  const result =
    mode === 'baseline'
      ? baseline(Number(first))
      : mode === 'finalise'
        ? await finalise(first, second, Number(third))
        : mode === 'ranged'
          ? await rangedOnce(first)
          : await readOnce(first);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
