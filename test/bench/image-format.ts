/**
 * Format-inspector benchmark: its cost on a 1 GiB qcow2, alone, inside the verify pass
 * (shared/data/verify.ts) and inside the real finalisation.
 *
 * Method
 * - qemu-img makes a qcow2 image (2 GiB virtual) and qemu-io writes 1 GiB of data into it, so the
 *   file is a real qcow2 of about 1 GiB. It is read once to warm the page cache.
 * - `inspector alone`: the file streamed from disk in 64 KiB chunks; the time spent inside
 *   `update`/`finish`, summed over the stream (the file reads are not counted); the inspection
 *   must find qcow2 with a 2 GiB virtual size.
 * - `verify pass with / without inspection`: `verifyData` (md5 + sha512, two threads when there
 *   are two CPUs) over the file in 8 MiB chunks (a ranged read's ranges), with `inspect` on and
 *   off; alternating rounds, median of each, ratio of the throughputs.
 * - `finalise with / without inspection`: the S3 trigger itself (finalise-harness.ts: a child
 *   process, the object in s3rver, a ranged read) on images waiting for that qcow2, declared
 *   `qcow2` in a `bare` container (inspected) or in an `ovf` one (not inspected, as Glance);
 *   alternating rounds on fresh copies of the object, median of each, ratio of the throughputs.
 * - Targets: >= 0.9 for both ratios. The load average is printed before and after.
 *
 * `npm run bench -- image-format` runs this part alone.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { verifyData } from '#shared/data/verify';
import { FormatInspector } from '#shared/image-format/inspector';
import { type ChildResult, runChild, startBenchStore } from './finalise-harness.ts';
import type { BenchRow } from './table.ts';

const run = promisify(execFile);
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const CHUNK = 64 * 1024;
/** The chunks a ranged read hands out. */
const RANGE = 8 * MiB;
const ROUNDS = 3;

const chunksOf = (file: string): AsyncIterable<Uint8Array> =>
  createReadStream(file, { highWaterMark: CHUNK });

const makeImage = async (dir: string): Promise<string> => {
  const file = join(dir, 'bench.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', file, '2G']);
  await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 1G', file]);
  return file;
};

/** Seconds spent inside the inspector over one streamed read of `file`. */
const inspectorAlone = async (file: string) => {
  const inspector = new FormatInspector();
  let inside = 0;
  for await (const chunk of chunksOf(file)) {
    const start = performance.now();
    inspector.update(chunk);
    inside += performance.now() - start;
  }
  const start = performance.now();
  const inspection = inspector.finish();
  inside += performance.now() - start;
  const [match, ...others] = inspection.matches;
  if (match?.format !== 'qcow2' || match.virtualSize !== 2 * GiB || match.failures.length || others.length) {
    throw new Error(`unexpected inspection of the bench image: ${JSON.stringify(inspection)}`);
  }
  return { seconds: inside / 1000, peak: inspector.peakRetainedBytes };
};

/** Seconds for one verify pass over `file` in 8 MiB chunks, with or without inspection. */
const pass = async (file: string, size: number, inspect: boolean) => {
  const start = performance.now();
  const { digest, inspection } = await verifyData(() => createReadStream(file, { highWaterMark: RANGE }), {
    expectedBytes: size,
    inspect,
  });
  const seconds = (performance.now() - start) / 1000;
  if (digest.size !== size) throw new Error(`verify saw ${digest.size} of ${size} bytes`);
  if (inspect && inspection?.matches[0]?.format !== 'qcow2') throw new Error('the bench image is not qcow2');
  return seconds;
};

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Median of each of two measurements, taken in alternating rounds. */
const alternate = async (without: () => Promise<number>, withInspection: () => Promise<number>) => {
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    a.push(await without());
    b.push(await withInspection());
  }
  return { without: median(a), with: median(b) };
};

/** The S3 trigger on copies of the image, inspected (`bare`) or not (`ovf`). */
const finalisePasses = async (file: string, size: number) => {
  const store = await startBenchStore();
  try {
    const source = await store.waitingImage('bench-format-source', size);
    await store.putFile(source, file);
    const finalise = async (container_format: 'bare' | 'ovf') => {
      const key = await store.waitingImage(`bench-format-${container_format}`, size, {
        disk_format: 'qcow2',
        container_format,
      });
      const eTag = await store.copy(source, key);
      const result: ChildResult = await runChild(['finalise', key, eTag, String(size)], store.env);
      if (result.outcome !== 'activated')
        throw new Error(`finalisation ended ${result.outcome}: ${result.reason}`);
      return result.ms / 1000;
    };
    return await alternate(
      () => finalise('ovf'),
      () => finalise('bare'),
    );
  } finally {
    await store.stop();
  }
};

export const runImageFormatBench = async (): Promise<BenchRow[]> => {
  const loadBefore = loadavg()[0] ?? 0;
  const dir = await mkdtemp(join(tmpdir(), 'glance-bench-format-'));
  try {
    const file = await makeImage(dir);
    const size = (await stat(file)).size;
    for await (const _ of chunksOf(file)) {
      // Warms the page cache: every measurement reads the same file.
    }
    const alone = await inspectorAlone(file);
    const verify = await alternate(
      () => pass(file, size, false),
      () => pass(file, size, true),
    );
    const finalise = await finalisePasses(file, size);
    const loadAfter = loadavg()[0] ?? 0;
    const rate = (seconds: number) => size / MiB / seconds;
    return [
      { metric: 'load average (1 min) before / after', value: loadBefore, unit: `/ ${loadAfter.toFixed(1)}` },
      { metric: 'qcow2 image (qemu-img, 1 GiB of data, 2 GiB virtual)', value: size / MiB, unit: 'MiB' },
      { metric: 'inspector alone, 64 KiB chunks', value: rate(alone.seconds), unit: 'MiB/s' },
      { metric: 'inspector peak retained bytes', value: alone.peak / 1024, unit: 'KiB' },
      { metric: 'verify pass (md5+sha512), without inspection', value: rate(verify.without), unit: 'MiB/s' },
      { metric: 'verify pass (md5+sha512), with inspection', value: rate(verify.with), unit: 'MiB/s' },
      {
        metric: 'with / without inspection (verify pass)',
        value: verify.without / verify.with,
        unit: 'ratio',
        target: '>= 0.9',
      },
      { metric: 'finalise (S3 trigger), not inspected (ovf)', value: rate(finalise.without), unit: 'MiB/s' },
      { metric: 'finalise (S3 trigger), inspected (bare)', value: rate(finalise.with), unit: 'MiB/s' },
      {
        metric: 'with / without inspection (finalise)',
        value: finalise.without / finalise.with,
        unit: 'ratio',
        target: '>= 0.9',
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
