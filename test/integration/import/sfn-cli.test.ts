/**
 * `npm run sfn` against a running local stack: a separate process that finds the stack's Step
 * Functions endpoint in `<data dir>/step-functions.json`, starts an execution there and prints
 * its history state by state. Here it re-drives a task whose execution never started (an API
 * function that died between creating the task and StartExecution).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '#infra/constructs/glance-function';
import { endpointsFile } from '#infra/local/import';
import {
  createImage,
  expectNothingStuck,
  type ImportStack,
  plantPendingImport,
  randomBytesOf,
  sha512,
  showImage,
  stageDirect,
  startImportStack,
} from './helpers.ts';

const run = promisify(execFile);
let stack: ImportStack;
let dataDir: string;
const data = randomBytesOf(10_000);

beforeAll(async () => {
  stack = await startImportStack();
  dataDir = await mkdtemp(join(tmpdir(), 'glance-sfn-cli-'));
  await writeFile(
    endpointsFile(dataDir),
    JSON.stringify({
      endpoint: stack.stepFunctions.endpoint,
      stateMachineArn: stack.stepFunctions.stateMachineArn,
      pid: process.pid,
    }),
  );
});
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const sfn = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'infra/local/sfn-cli.ts', ...args, '--data-dir', dataDir], {
    cwd: REPO_ROOT,
  }).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

describe('npm run sfn', () => {
  it('re-drives a pending task like a console run and prints the history state by state', async () => {
    const created = await createImage(stack);
    await stageDirect(stack, created.id, data);
    // What the API leaves behind if it dies right before StartExecution: lock and pending task.
    const image = await stack.images.get(created.id);
    if (!image) throw new Error('no image');
    const taskId = await plantPendingImport(stack, image);

    const result = await sfn('start', '--input', JSON.stringify({ task_id: taskId }));
    expect(result.code).toBe(0);
    const entered = [...result.stdout.matchAll(/TaskStateEntered\s+(\w+)/g)].map((match) => match[1]);
    expect(entered).toEqual(['Mark', 'Fetch', 'Verify', 'Promote', 'Activate', 'Complete']);
    expect(result.stdout).toMatch(/ExecutionStarted\s+\{"task_id":"[0-9a-f-]+"\}/);
    expect(result.stdout).toMatch(/\nSUCCEEDED in \d+\.\d{3} s/);
    expect(await showImage(stack, created.id)).toMatchObject({
      status: 'active',
      os_hash_value: sha512(data),
    });
    expect((await stack.api('GET', `/v2/tasks/${taskId}`, { token: stack.admin })).json.status).toBe(
      'success',
    );

    const name = /execution:ImportWorkflow:([0-9a-f-]+)/.exec(result.stdout)?.[1] ?? '';
    const history = await sfn('history', name);
    expect(history.code).toBe(0);
    expect(history.stdout).toContain('ExecutionSucceeded');
    const listed = await sfn('list');
    expect(listed.stdout).toMatch(new RegExp(`SUCCEEDED\\s+${name}`));

    // Running it again is a clean failure that changes nothing.
    const again = await sfn('start', '--input', JSON.stringify({ task_id: taskId }));
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/LambdaFunctionFailed\s+Mark\s+ImportError: Task .* is already 'success'/);
    expect(again.stdout).toContain('FAILED in');
    expect(await showImage(stack, created.id)).toMatchObject({ status: 'active' });
    await expectNothingStuck(stack);
  });

  it('explains what is wrong when no stack runs or the input is missing', async () => {
    const missing = await run(
      process.execPath,
      ['--import', 'tsx', 'infra/local/sfn-cli.ts', 'list', '--data-dir', join(dataDir, 'nope')],
      {
        cwd: REPO_ROOT,
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Start it with npm start first'),
    });
    expect(await sfn('start')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('start needs --input'),
    });
  });
});
