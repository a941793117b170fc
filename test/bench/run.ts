/**
 * `npm run bench [-- api|data-path|import|bundles|multipart|image-format]`: every benchmark of the service, measured in one run on
 * this machine and printed as tables of ratios against in-run baselines (never timed assertions in
 * tests). Each part runs in a child process of its own: a local stack sets the process environment
 * its clients are built from, so two parts cannot share one process.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printTable } from './table.ts';

const PARTS = {
  api: async () => {
    const { runApiBench } = await import('./api.ts');
    const { rows, profile } = await runApiBench();
    printTable('Lifecycle core: API vs raw DynamoDB (dynalite), list latency', rows);
    console.log('\nCPU profile of the create path (c=8), self time by area:');
    for (const line of profile) console.log(`  ${line}`);
  },
  'data-path': async () => {
    const { runDataPathBench } = await import('./data-path.ts');
    printTable('Data path: finalisation throughput and memory', await runDataPathBench());
  },
  import: async () => {
    const { runImportBench } = await import('./import.ts');
    printTable('Import workflow: glance-direct stage → active vs one hashing pass', await runImportBench());
  },
  bundles: async () => {
    const { runBundlesBench } = await import('./bundles.ts');
    printTable('Cold start: API function bundles vs a DynamoDB-client-only bundle', await runBundlesBench());
  },
  multipart: async () => {
    // Before the logger is created: one line per request would bury the tables.
    process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
    const { runCompleteBench, runPresignBench } = await import('./multipart.ts');
    printTable(
      'Presign: one page of part URLs, CPU time and its share of the API timeout',
      await runPresignBench(),
    );
    printTable('Complete: the API answer vs the assembly', await runCompleteBench());
  },
  'image-format': async () => {
    const { runImageFormatBench } = await import('./image-format.ts');
    printTable(
      'Format inspector: 1 GiB qcow2, alone and inside the md5+sha512 pass',
      await runImageFormatBench(),
    );
  },
} as const;

type Part = keyof typeof PARTS;
const isPart = (name: string | undefined): name is Part => name !== undefined && name in PARTS;

const requested = process.argv[2];
if (isPart(requested)) {
  await PARTS[requested]();
  process.exit(0);
} else if (requested !== undefined) {
  console.error(`unknown bench '${requested}'; one of: ${Object.keys(PARTS).join(', ')}`);
  process.exit(2);
}

let failed = false;
for (const part of Object.keys(PARTS)) {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), part], {
    stdio: 'inherit',
  });
  failed ||= child.status !== 0;
}
process.exit(failed ? 1 : 0);
