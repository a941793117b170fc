/**
 * `npm run bench`: every benchmark of the service, measured in one run on this machine and
 * printed as tables of ratios against in-run baselines (never absolute timings in tests).
 */
import { runApiBench } from './api.ts';
import { printTable } from './table.ts';

const only = process.argv[2];

if (!only || only === 'api') {
  const { rows, profile } = await runApiBench();
  printTable('Lifecycle core: API vs raw DynamoDB (dynalite), list latency', rows);
  console.log('\nCPU profile of the create path (c=8), self time by area:');
  for (const line of profile) console.log(`  ${line}`);
}
