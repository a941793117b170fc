/**
 * Data-path benchmark: the S3 trigger's finalisation of a 1 GiB object against this machine's own
 * single-pass md5+sha512 speed, straight from the emulator and through a proxy that holds every
 * connection to the rate of one S3 stream from Lambda; and the trigger's peak memory.
 *
 * Method (test/bench/finalise-harness.ts)
 * - The emulators (dynalite, s3rver) run in this process; a 1 GiB (and a 256 MiB) object of random
 *   bytes is written to s3rver, and an image record waits for it in `saving` (a fresh image and a
 *   copy of the object for every further run).
 * - Each measurement runs in a fresh child process, next to s3rver:
 *     `baseline`: md5 and sha512 updated together over 1 GiB in memory, one thread: the pure CPU
 *                 cost of one pass, without any I/O;
 *     `finalise`: the deployed handler (functions/uploads/finalise.ts) given the S3 event record:
 *                 a ranged read of the object (8 ranges of 8 MiB in flight), md5 + sha512 on two
 *                 threads, limits, activation in dynalite, as on AWS.
 * - Throttled: the child's S3 endpoint is a TCP proxy (throttle-proxy.ts, a process of its own) that holds each
 *   connection to 50 MiB/s, the stated rate of one GetObject stream
 *   (docs/uploads.md#how-large-an-image-one-invocation-verifies). One plain GetObject through it
 *   shows that rate; the finaliser's ranged read must make the pass hash-bound again.
 * - Targets: finalise / single-pass ≥ 0.9 unthrottled and ≥ 0.8 throttled; peak RSS 1 GiB /
 *   256 MiB ≤ 1.2 (the memory of a ranged read is fixed by its window, not by the object; the
 *   smaller object is four windows long, so that both reads run with a full window).
 * - Three rounds, each running every measurement once in turn (fresh copies of the objects); each
 *   figure is the run with the median rate. The machine's load average is printed before and
 *   after: on a shared machine the ratios drop when other processes compete for the cores.
 * - s3rver shares the two cores with the finaliser here (on AWS, S3 is not on the function's
 *   CPUs): its CPU time per GiB served, and the ranged read's own, are printed next to the ratios.
 *
 * `npm run bench` runs it through test/bench/run.ts; `npm run bench -- data-path` alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINALISE_MEMORY_MB } from '#infra/functions';
import {
  type ChildResult,
  cpuPerGiB,
  rateOf,
  runChild,
  startBenchStore,
  writeData,
} from './finalise-harness.ts';
import type { BenchRow } from './table.ts';
import { startThrottleProxyProcess } from './throttle-proxy.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** The stated rate of one S3 stream. */
const STREAM_BYTES_PER_SECOND = 50 * MiB;
/** The smaller object: four times a ranged read's window (8 ranges of 8 MiB). */
const SMALL = 256 * MiB;
const ROUNDS = 3;
/** Lambda gives one vCPU per 1769 MB of memory. */
const LAMBDA_MB_PER_VCPU = 1769;

/** The run with the median rate. */
const medianRun = (results: ChildResult[]): ChildResult =>
  [...results].sort((a, b) => rateOf(a) - rateOf(b))[Math.floor(results.length / 2)] as ChildResult;

export const runDataPathBench = async (): Promise<BenchRow[]> => {
  const loadBefore = loadavg()[0] ?? 0;
  const dir = await mkdtemp(join(tmpdir(), 'glance-bench-data-'));
  const store = await startBenchStore();
  const proxy = await startThrottleProxyProcess(store.s3Endpoint, STREAM_BYTES_PER_SECOND);
  const throttled = { ...store.env, AWS_ENDPOINT_URL_S3: proxy.endpoint };
  try {
    /** An image waiting for `size` bytes and that object in s3rver. */
    const prepare = async (size: number) => {
      const file = join(dir, `data-${size}`);
      await writeData(file, size);
      const key = await store.waitingImage(`bench-${size}`, size);
      const eTag = await store.putFile(key, file);
      await rm(file);
      return { key, eTag };
    };
    const small = await prepare(SMALL);
    const large = await prepare(GiB);
    /** Another image waiting for a copy of an existing object (S3 CopyObject, no new file). */
    const again = async (source: string, size: number) => {
      const key = await store.waitingImage('bench-again', size);
      return { key, eTag: await store.copy(source, key) };
    };
    const finalise = async (object: { key: string; eTag: string }, size: number, env = store.env) => {
      const result = await runChild(['finalise', object.key, object.eTag, String(size)], env);
      if (result.outcome !== 'activated') {
        throw new Error(`finalisation ended ${result.outcome}: ${result.reason ?? ''}`);
      }
      // Copies go once measured: GiBs of objects piling up in the page cache slowed later rounds.
      if (object.key !== small.key && object.key !== large.key) await store.remove(object.key);
      return result;
    };

    // Rounds alternate every measurement, and each figure is the run with the median rate of its
    // rounds, so a burst of other work on the machine moves one run, not one metric.
    const runs: Record<'baseline' | 'finalise' | 'oneThread' | 'throttled' | 'small', ChildResult[]> = {
      baseline: [],
      finalise: [],
      oneThread: [],
      throttled: [],
      small: [],
    };
    /** CPU seconds this process (s3rver and dynalite) spent serving the unthrottled finalisations. */
    let emulatorCpuMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      runs.baseline.push(await runChild(['baseline', String(GiB)], store.env));
      const object = round === 0 ? large : await again(large.key, GiB);
      const before = process.cpuUsage();
      runs.finalise.push(await finalise(object, GiB));
      const served = process.cpuUsage(before);
      emulatorCpuMs += (served.user + served.system) / 1000;
      // One hashing thread (what a 1-vCPU Lambda does).
      runs.oneThread.push(
        await finalise(await again(large.key, GiB), GiB, { ...store.env, DIGEST_THREADS: '1' }),
      );
      runs.throttled.push(await finalise(await again(large.key, GiB), GiB, throttled));
      runs.small.push(await finalise(round === 0 ? small : await again(small.key, SMALL), SMALL));
    }
    const baseline = medianRun(runs.baseline);
    const finaliseLarge = medianRun(runs.finalise);
    const finaliseOneThread = medianRun(runs.oneThread);
    const finaliseThrottled = medianRun(runs.throttled);
    const finaliseSmall = medianRun(runs.small);
    const rangedAlone = await runChild(['ranged', large.key], store.env);
    const oneStream = await runChild(['read', small.key], throttled);
    const loadAfter = loadavg()[0] ?? 0;

    return [
      { metric: 'load average (1 min) before / after', value: loadBefore, unit: `/ ${loadAfter.toFixed(1)}` },
      { metric: 'single-pass md5+sha512, in memory (1 GiB)', value: rateOf(baseline), unit: 'MiB/s' },
      { metric: 'single-pass md5+sha512, CPU per GiB', value: cpuPerGiB(baseline), unit: 's' },
      {
        metric: 'finalise 1 GiB (ranged S3 read + hash + activate)',
        value: rateOf(finaliseLarge),
        unit: `MiB/s (runs: ${runs.finalise.map((run) => rateOf(run).toFixed(0)).join(', ')})`,
      },
      { metric: 'finalise 1 GiB, CPU per GiB (all threads)', value: cpuPerGiB(finaliseLarge), unit: 's' },
      {
        metric: 'of which the ranged read alone (no hashing), CPU per GiB',
        value: cpuPerGiB(rangedAlone),
        unit: 's',
      },
      {
        metric: 'S3 emulator serving the finalise, CPU per GiB (same two cores)',
        value: emulatorCpuMs / 1000 / ROUNDS,
        unit: 's',
      },
      {
        metric: 'finalise throughput / single-pass hash speed',
        value: rateOf(finaliseLarge) / rateOf(baseline),
        unit: 'ratio',
        target: '>= 0.9',
      },
      {
        metric: 'same, one hashing thread (DIGEST_THREADS=1) / single-pass',
        value: rateOf(finaliseOneThread) / rateOf(baseline),
        unit: 'ratio',
      },
      {
        metric: 'one GetObject stream through the 50 MiB/s-per-connection proxy',
        value: rateOf(oneStream),
        unit: 'MiB/s',
      },
      {
        metric: 'finalise 1 GiB through the proxy (8 ranges in flight)',
        value: rateOf(finaliseThrottled),
        unit: `MiB/s (runs: ${runs.throttled.map((run) => rateOf(run).toFixed(0)).join(', ')})`,
      },
      {
        metric: 'throttled finalise, CPU per GiB (all threads)',
        value: cpuPerGiB(finaliseThrottled),
        unit: 's',
      },
      {
        metric: 'throttled finalise / single-pass hash speed',
        value: rateOf(finaliseThrottled) / rateOf(baseline),
        unit: 'ratio',
        target: '>= 0.8',
      },
      // Derived, not measured: here s3rver and the proxy share the two cores; on AWS the
      // function's vCPUs are its own, so its CPU time per GiB is what bounds it.
      ...[FINALISE_MEMORY_MB, 3538].map((memoryMb) => ({
        metric: `derived: ${(memoryMb / LAMBDA_MB_PER_VCPU).toFixed(1)} vCPUs of its own (${memoryMb} MB) ÷ CPU per GiB / single-pass`,
        value: ((memoryMb / LAMBDA_MB_PER_VCPU) * 1024) / cpuPerGiB(finaliseThrottled) / rateOf(baseline),
        unit: 'ratio',
      })),
      {
        metric: 'throttled finalise peak RSS, 1 GiB object',
        value: finaliseThrottled.maxRssKb / 1024,
        unit: 'MiB',
      },
      { metric: 'finalise 256 MiB', value: rateOf(finaliseSmall), unit: 'MiB/s' },
      { metric: 'finalise peak RSS, 256 MiB object', value: finaliseSmall.maxRssKb / 1024, unit: 'MiB' },
      { metric: 'finalise peak RSS, 1 GiB object', value: finaliseLarge.maxRssKb / 1024, unit: 'MiB' },
      {
        metric: 'peak RSS 1 GiB / 256 MiB',
        value: finaliseLarge.maxRssKb / finaliseSmall.maxRssKb,
        unit: 'ratio',
        target: '<= 1.2',
      },
      {
        metric: 'RSS growth during the call, 256 MiB object',
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
    await proxy.close();
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  }
};
