/**
 * Format-inspector benchmark: its cost on a 1 GiB qcow2, alone and inside the md5 + sha512 pass
 * that verifies image data (shared/data/digest.ts: the single-thread pass of the import workflow,
 * and the finaliser's two-thread pass).
 *
 * Method
 * - qemu-img makes a qcow2 image (2 GiB virtual) and qemu-io writes 1 GiB of data into it, so the
 *   file is a real qcow2 of about 1 GiB. It is read once to warm the page cache, then streamed from
 *   disk in 64 KiB chunks (what S3 GetObject bodies deliver) for every measurement.
 * - `inspector alone`: the time spent inside `update`/`finish`, summed over the stream (the file
 *   reads are not counted); the inspection must find qcow2 with a 2 GiB virtual size.
 * - `pass with / without inspection`: the same digest function over the same file, once fed the
 *   chunks directly and once through `inspecting(...)`; alternating rounds, median of each, ratio
 *   of the throughputs. Target >= 0.9 for both digest functions.
 *
 * `npm run bench -- image-format` runs this part alone.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { type Digest, digestStream } from '#shared/data/digest';
import { digestStreamFast } from '#shared/data/parallel-digest';
import { FormatInspector, inspecting } from '#shared/image-format/inspector';
import type { BenchRow } from './table.ts';

const run = promisify(execFile);
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const CHUNK = 64 * 1024;
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

type Digester = (chunks: AsyncIterable<Uint8Array>, options: { expectedBytes: number }) => Promise<Digest>;

/** Seconds for one digest pass over `file`, with or without the inspector on the way. */
const pass = async (digest: Digester, file: string, size: number, inspect: boolean) => {
  const inspector = new FormatInspector();
  const start = performance.now();
  const source = inspect ? inspecting(chunksOf(file), inspector) : chunksOf(file);
  const result = await digest(source, { expectedBytes: size });
  if (inspect) inspector.finish();
  const seconds = (performance.now() - start) / 1000;
  if (result.size !== size) throw new Error(`digest saw ${result.size} of ${size} bytes`);
  return seconds;
};

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Median seconds without and with inspection, measured in alternating rounds. */
const compare = async (digest: Digester, file: string, size: number) => {
  const without: number[] = [];
  const withInspection: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    without.push(await pass(digest, file, size, false));
    withInspection.push(await pass(digest, file, size, true));
  }
  return { without: median(without), with: median(withInspection) };
};

export const runImageFormatBench = async (): Promise<BenchRow[]> => {
  const dir = await mkdtemp(join(tmpdir(), 'glance-bench-format-'));
  try {
    const file = await makeImage(dir);
    const size = (await stat(file)).size;
    for await (const _ of chunksOf(file)) {
      // Warms the page cache: every measurement reads the same file.
    }
    const alone = await inspectorAlone(file);
    const single = await compare((chunks) => digestStream(chunks), file, size);
    const finaliser = await compare(digestStreamFast, file, size);
    const rate = (seconds: number) => size / MiB / seconds;
    return [
      { metric: 'qcow2 image (qemu-img, 1 GiB of data, 2 GiB virtual)', value: size / MiB, unit: 'MiB' },
      { metric: 'inspector alone, 64 KiB chunks', value: rate(alone.seconds), unit: 'MiB/s' },
      { metric: 'inspector peak retained bytes', value: alone.peak / 1024, unit: 'KiB' },
      {
        metric: 'md5+sha512 pass (digestStream), without inspection',
        value: rate(single.without),
        unit: 'MiB/s',
      },
      { metric: 'md5+sha512 pass (digestStream), with inspection', value: rate(single.with), unit: 'MiB/s' },
      {
        metric: 'with / without inspection (single-thread pass)',
        value: single.without / single.with,
        unit: 'ratio',
        target: '>= 0.9',
      },
      {
        metric: 'finaliser pass (digestStreamFast), without inspection',
        value: rate(finaliser.without),
        unit: 'MiB/s',
      },
      {
        metric: 'finaliser pass (digestStreamFast), with inspection',
        value: rate(finaliser.with),
        unit: 'MiB/s',
      },
      {
        metric: 'with / without inspection (finaliser pass)',
        value: finaliser.without / finaliser.with,
        unit: 'ratio',
        target: '>= 0.9',
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
