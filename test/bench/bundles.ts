/**
 * Cold-start benchmark (docs/benchmarks.md#cold-start): every API function bundled as CDK bundles
 * it (infra/bundles.ts), its size and its cold import time, each as a ratio to a bundle that only
 * creates a DynamoDB document client. Sizes of the control-plane functions are held to the same
 * budget by test/infra/bundle-budget.test.ts; import times are only measured here.
 *
 * Method: each bundle is written to a temporary directory with its source map, then imported by a
 * fresh `node --enable-source-maps` process (as the functions run on Lambda), which prints the time
 * `import()` took: module loading, parsing and top-level evaluation, without calling the handler.
 * The median of `BENCH_IMPORT_RUNS` (default 5) processes per bundle; the baseline's runs alternate
 * with the others' so machine load affects both alike.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundles, codeOf } from '#infra/bundles';
import { REPO_ROOT } from '#infra/constructs/glance-function';
import { routes } from '#infra/routes';
import { BASELINES, BUNDLE_BUDGET, baselineOf, controlPlaneRoutes } from '#test/helpers/bundle-budget';
import type { BenchRow } from './table.ts';

const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 5);
/** The target for every API function's cold import, against the DynamoDB-only bundle. */
const IMPORT_TARGET = 1.2;

const IMPORT_TIMER = `
const started = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - started));
`;

/** Milliseconds one fresh process took to import the bundle. */
const importOnce = (file: string): number => {
  const child = spawnSync(
    process.execPath,
    ['--enable-source-maps', '--input-type=module', '-e', IMPORT_TIMER, pathToFileURL(file).href],
    {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        TABLE_NAME: 'bench',
        BUCKET_NAME: 'bench',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    },
  );
  const ms = Number(child.stdout);
  if (child.status !== 0 || !Number.isFinite(ms))
    throw new Error(`importing ${file} failed: ${child.stderr}`);
  return ms;
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

export const runBundlesBench = async (): Promise<BenchRow[]> => {
  const outdir = await mkdtemp(join(tmpdir(), 'glance-bundles-'));
  try {
    const entries = { ...BASELINES, ...Object.fromEntries(routes.map((route) => [route.name, route.entry])) };
    const code = await bundles(REPO_ROOT, entries, outdir);
    const size = (name: string) => Buffer.byteLength(codeOf(code.get(name) ?? ''));
    const file = (name: string) => join(outdir, `${name}.mjs`);

    const baselineTimes: number[] = [];
    const times = new Map<string, number>();
    for (const route of routes) {
      const own: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        baselineTimes.push(importOnce(file('DynamoDbOnly')));
        own.push(importOnce(file(route.name)));
      }
      times.set(route.name, median(own));
    }
    const baselineMs = median(baselineTimes);
    const controlPlane = new Set(controlPlaneRoutes.map((route) => route.name));

    const rows: BenchRow[] = [
      { metric: 'DynamoDB-client-only bundle: size', value: size('DynamoDbOnly') / 1024, unit: 'KiB' },
      { metric: 'DynamoDB-client-only bundle: cold import', value: baselineMs, unit: 'ms' },
    ];
    for (const route of routes) {
      const budgeted = controlPlane.has(route.name);
      rows.push(
        {
          metric: `${route.name}: size ${(size(route.name) / 1024).toFixed(0)} KiB ÷ baseline`,
          value: size(route.name) / size('DynamoDbOnly'),
          unit: 'ratio',
          // Held to the budget against the clients it must create (test/helpers/bundle-budget.ts).
          ...(budgeted && baselineOf(route) === 'DynamoDbOnly' ? { target: `<= ${BUNDLE_BUDGET}` } : {}),
        },
        {
          metric: `${route.name}: cold import ${(times.get(route.name) ?? 0).toFixed(0)} ms ÷ baseline`,
          value: (times.get(route.name) ?? Number.NaN) / baselineMs,
          unit: 'ratio',
          target: `<= ${IMPORT_TARGET}`,
        },
      );
    }
    return rows;
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
};
