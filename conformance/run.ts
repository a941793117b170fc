/**
 * `npm run conformance [-- --regex <tempest regex>] [--keep]`: OpenStack's own image API tests
 * (Debian's tempest, `tempest.api.image.v2`, admin tests included, concurrency 2) and a scripted
 * `openstack` CLI walk against a local stack started for the run (identity mode keystone, free
 * ports, a temporary data dir). Every test Glance 25.1 passes (glance-25.1-passing.txt) must pass
 * here too, except the exclusions of excluded.txt, each naming its open issue; the walk's
 * commands must work, except those waiting for an issue. Exits 1 otherwise, 2 when the tools are
 * missing. docs/conformance.md#what-it-does-conformancerunts explains the output.
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cliWalk, type WalkStep } from './cli-walk.ts';
import { compare, parseExclusions, parseSubunitCsv, parseTestList, type Row } from './report.ts';
import {
  CONFORMANCE_DIR,
  conformanceAccounts,
  createWorkspace,
  LOCATIONS_REGEX,
  lastResultsCsv,
  run,
  runTempest,
  TEMPEST_REGEX,
} from './tempest.ts';

const { values: args } = parseArgs({
  options: {
    regex: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-walk': { type: 'boolean', default: false },
    locations: { type: 'boolean', default: false },
  },
});
/**
 * `--locations`: the locations pass only, on a stack with the legacy locations setting on (a process of its own: the
 * functions read their settings once per process). A full run (no `--regex`) ends with it.
 */
const locationsPass = args.locations;
const regex = args.regex ?? (locationsPass ? LOCATIONS_REGEX : TEMPEST_REGEX);
const expectedList = locationsPass ? 'glance-25.1-locations-passing.txt' : 'glance-25.1-passing.txt';

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const say = (line = '') => process.stdout.write(`${line}\n`);

const missing: string[] = [];
for (const tool of ['tempest', 'stestr', 'subunit2csv', 'openstack']) {
  if ((await run('bash', ['-c', `command -v ${tool}`])).code !== 0) missing.push(tool);
}
if (missing.length > 0) {
  say(`conformance: ${missing.join(', ')} not found. Install the Debian packages:`);
  say('  apt-get install tempest python3-openstackclient');
  process.exit(2);
}

const dir = await mkdtemp(join(tmpdir(), 'glance-conformance-'));
const httpImage = randomBytes(64 * 1024);
const files = createServer((req, res) => {
  if (req.url !== '/test-image.raw') {
    res.statusCode = 404;
    return res.end();
  }
  res.setHeader('Content-Type', 'application/octet-stream');
  res.end(httpImage);
});
files.listen(0, '127.0.0.1');
await new Promise((ready) => files.once('listening', ready));
const filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;

// The functions' INFO lines would drown tempest's; warnings and errors still show. Set before the
// local stack is loaded, since what it loads creates the logger.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
// Glance's show_multiple_locations, for the locations pass only; the service's default is off.
if (locationsPass) process.env.SHOW_MULTIPLE_LOCATIONS = 'true';
const { startLocalStack } = await import('#infra/local/stack');
const { accounts, users } = await conformanceAccounts();
const stack = await startLocalStack({
  port: 0,
  persist: false,
  dataDir: join(dir, 'data'),
  identity: 'keystone',
  accounts,
  // Glance's catalog holds its metadefs files (`glance-manage db_load_metadefs`); tempest lists
  // the resource types and needs at least one.
  metadefsStarterCatalog: true,
});
// The first import synthesizes the state machine (CDK, in this process: tens of seconds of CPU on a
// busy machine), which stalls every request in flight past the functions' timeouts (500s in
// tempest's upload and import tests). Done before tempest starts.
await stack.stepFunctions.definition();
const keystoneUrl = stack.keystone?.url ?? '';
say(`conformance: API ${stack.url}, Keystone ${keystoneUrl}/v3, work dir ${dir}`);

let exitCode = 0;
try {
  const workspace = await createWorkspace(join(dir, 'tempest'), {
    keystoneUrl,
    httpImage: `${filesUrl}/test-image.raw`,
    users,
    manageLocations: locationsPass,
  });
  say(`\n== tempest run --regex '${regex}' --concurrency 2`);
  await runTempest(workspace, regex, (line) => {
    if (/^\{\d+\} /.test(line)) say(`  ${line}`);
  });
  const results = parseSubunitCsv(await lastResultsCsv(workspace));
  const selected = new RegExp(regex);
  const expected = parseTestList(await readFile(join(CONFORMANCE_DIR, expectedList), 'utf8')).filter((id) =>
    selected.test(id),
  );
  const exclusions = parseExclusions(await readFile(join(CONFORMANCE_DIR, 'excluded.txt'), 'utf8'));
  const comparison = compare(expected, results, exclusions);

  const counts = { pass: 0, fail: 0, skip: 0 };
  for (const [id, outcome] of results)
    if (!id.startsWith('setUpClass') && !id.startsWith('tearDownClass')) counts[outcome]++;
  const by = (verdict: Row['verdict']) => comparison.rows.filter((row) => row.verdict === verdict);

  say('\n== tests Glance 25.1 passes, here');
  for (const row of comparison.rows) {
    const note = row.exclusion ? `  (excluded: issue ${row.exclusion.issue}, ${row.exclusion.reason})` : '';
    say(`  ${row.here.toUpperCase().padEnd(7)} ${row.id}${note}`);
  }
  if (comparison.extraPasses.length > 0) {
    say('\n== passing here, not in the Glance list');
    for (const id of comparison.extraPasses) say(`  PASS    ${id}`);
  }
  say('\n== summary');
  say(`  here: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped (tempest ${regex})`);
  say(
    `  Glance 25.1 passes ${comparison.rows.length}: ${by('ok').length} pass here, ` +
      `${by('excluded').length} excluded (open issues), ${by('regression').length} fail here`,
  );
  for (const row of by('regression')) say(`  FAILS HERE: ${row.id} (${row.here})`);
  for (const row of comparison.stale) say(`  passes now, drop its exclusion: ${row.id}`);
  if (by('regression').length > 0) exitCode = 1;

  if (!args['no-walk'] && !locationsPass) {
    say('\n== openstack CLI walk (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME only)');
    const [owner, other] = users.filter((user) => !user.roles.includes('admin'));
    if (!owner || !other) throw new Error('accounts.json needs two members');
    const steps = await cliWalk({
      dir,
      keystoneUrl,
      owner,
      other,
      onStep: (step: WalkStep) => {
        const verdict = step.ok ? 'OK' : step.waitsFor ? 'EXPECTED FAIL' : 'FAIL';
        const waits = step.waitsFor ? ` [waits for ${step.waitsFor}]` : '';
        say(`  ${verdict.padEnd(13)} ${step.name}${waits}${step.detail ? `: ${step.detail}` : ''}`);
      },
    });
    const working = steps.filter((step) => step.ok).length;
    const broken = steps.filter((step) => !step.ok && !step.waitsFor);
    say(`  walk: ${working}/${steps.length} commands work, ${broken.length} unexpected failures`);
    for (const step of steps.filter((s) => s.ok && s.waitsFor))
      say(`  works now, drop its expectation: ${step.name}`);
    if (broken.length > 0) exitCode = 1;
  }
} catch (error) {
  say(`conformance: ${(error as Error).stack ?? error}`);
  exitCode = 1;
} finally {
  await stack.stop();
  await new Promise((done) => files.close(done));
  if (exitCode === 0 && !args.keep) await rm(dir, { recursive: true, force: true });
  else say(`\nkept ${dir} (tempest log: ${join(dir, 'tempest', 'logs', 'tempest.log')})`);
}
// After the main stack stopped: the locations pass starts its own, in a process of its own.
if (!locationsPass && args.regex === undefined) {
  say('\n== locations pass: ImageLocationsTest with SHOW_MULTIPLE_LOCATIONS=true');
  const pass = await run(
    'npx',
    ['tsx', join(CONFORMANCE_DIR, 'run.ts'), '--locations', ...(args.keep ? ['--keep'] : [])],
    {
      onLine: (line) => say(`  | ${line}`),
    },
  );
  if (pass.code !== 0) exitCode = 1;
}
say(
  `\nconformance${locationsPass ? ' (locations pass)' : ''}: ${exitCode === 0 ? 'PASSED' : 'FAILED'} in ${elapsed()}`,
);
process.exit(exitCode);
