/**
 * The local Step Functions runner as AWS runs the synthesized definition: a function that outlives
 * its timeout fails with `Sandbox.Timedout` (Lambda's error type), which the definition retries for
 * short steps and catches into FailImport for every step; executions kept in a store survive a
 * crash of the process (docs/local-development.md#durable-executions).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ExecutionRunner,
  type ExecutionStatusChangeDetail,
  executionRunner,
  RESTART_ERROR,
  type RunnerOptions,
} from '#infra/local/step-functions/runner';
import { ExecutionStore } from '#infra/local/step-functions/store';
import { FAILURE_STATE, STEP_NAMES } from '#shared/import/state-machine';
import { delays, errors, invocations } from '#test/helpers/fixtures/step';

const FIXTURE = 'test/helpers/fixtures/step.ts';
let runner: ExecutionRunner;

/** Every state runs the fixture; Mark and Fetch time out after `shortTimeout` seconds. */
const fixtureRunner = (shortTimeout: number, extra: RunnerOptions = {}) =>
  executionRunner({
    retryIntervalMs: 1,
    functions: Object.fromEntries(
      [...STEP_NAMES, FAILURE_STATE].map((name) => [
        name,
        { entry: FIXTURE, timeoutSeconds: name === 'Mark' || name === 'Fetch' ? shortTimeout : 30 },
      ]),
    ),
    ...extra,
  });

beforeAll(async () => {
  runner = fixtureRunner(0.3);
  await runner.definition();
}, 60_000);
afterEach(() => {
  delays.clear();
  errors.clear();
  invocations.length = 0;
});

const failures = (events: readonly { type: string; [key: string]: unknown }[]) =>
  events
    .filter((event) => event.type === 'LambdaFunctionFailed')
    .map((event) => (event.lambdaFunctionFailedEventDetails as { error: string }).error);

describe('function timeouts in the local runner', () => {
  it('lets a function that finishes in time succeed', async () => {
    delays.set('Mark', 100);
    const execution = await runner.start('in-time', '{"task_id": "t"}');
    await runner.waitFor(execution.name);
    expect(execution.status).toBe('SUCCEEDED');
    expect(invocations).toEqual([...STEP_NAMES]);
  });

  it('fails a short step with Sandbox.Timedout, retries it once, then catches it into FailImport', async () => {
    delays.set('Mark', 2_000);
    const execution = await runner.start('mark-times-out', '{"task_id": "t"}');
    await runner.waitFor(execution.name);
    expect(failures(execution.events)).toEqual(['Sandbox.Timedout', 'Sandbox.Timedout']);
    expect(invocations).toEqual(['Mark', 'Mark', FAILURE_STATE]);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('Sandbox.Timedout');
    const failed = execution.events.find((event) => event.type === 'LambdaFunctionFailed') as unknown as {
      lambdaFunctionFailedEventDetails: { cause: string };
    };
    expect(failed.lambdaFunctionFailedEventDetails.cause).toMatch(/Task timed out after 0\.30 seconds/);
  });

  it('catches a data step that timed out at once (no retry for 15-minute steps)', async () => {
    delays.set('Fetch', 2_000);
    const execution = await runner.start('fetch-times-out', '{"task_id": "t"}');
    await runner.waitFor(execution.name);
    expect(failures(execution.events)).toEqual(['Sandbox.Timedout']);
    expect(invocations).toEqual(['Mark', 'Fetch', FAILURE_STATE]);
    expect(execution.status).toBe('FAILED');
  });
});

describe('durable executions', () => {
  const directories: string[] = [];
  const tempDir = () => {
    const directory = mkdtempSync(join(tmpdir(), 'sfn-durable-'));
    directories.push(directory);
    return directory;
  };
  afterAll(() => {
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(check()).toBe(true);
  };

  it('fails an execution that was running at the crash through FailImport, from its last state', async () => {
    const before = tempDir();
    const ended: ExecutionStatusChangeDetail[] = [];
    const first = fixtureRunner(30, {
      store: new ExecutionStore(before),
      onExecutionEnded: async (detail) => void ended.push(detail),
    });
    errors.set('Verify', 'ImportError');
    const failing = await first.start('failed-before', '{"task_id": "f"}');
    await first.waitFor(failing.name);
    errors.clear();
    delays.set('Fetch', 2_000);
    const crashed = await first.start('crashed', '{"task_id": "c"}');
    await until(() =>
      crashed.events.some(
        (event) => event.type === 'TaskStateEntered' && JSON.stringify(event).includes('"Fetch"'),
      ),
    );
    // kill -9 now: what is on disk is all the next process gets.
    const after = tempDir();
    cpSync(before, after, { recursive: true });
    await first.stopAll();
    delays.clear();
    invocations.length = 0;

    const restarted: ExecutionStatusChangeDetail[] = [];
    const second = fixtureRunner(30, {
      store: new ExecutionStore(after),
      onExecutionEnded: async (detail) => void restarted.push(detail),
    });
    expect(await second.recover()).toEqual({ failed: ['crashed'], reported: [] });
    await second.idle();

    expect(invocations).toEqual([FAILURE_STATE]);
    const recovered = second.execution('crashed');
    expect(recovered).toMatchObject({ status: 'FAILED', error: RESTART_ERROR, input: '{"task_id": "c"}' });
    const events = recovered?.events ?? [];
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    expect(events.filter((event) => event.type === 'ExecutionStarted')).toHaveLength(1);
    const failureEntered = events.find(
      (event) => event.type === 'TaskStateEntered' && JSON.stringify(event).includes(FAILURE_STATE),
    ) as unknown as { stateEnteredEventDetails: { input: string } };
    expect(JSON.parse(failureEntered.stateEnteredEventDetails.input)).toMatchObject({
      task_id: 'c',
      mark: { ok: 'Mark' },
      error: { Error: RESTART_ERROR },
    });
    expect(restarted.map((detail) => [detail.name, detail.status])).toEqual([['crashed', 'FAILED']]);
    // The execution that had ended before the crash is listed as it was, and names stay taken.
    expect(second.execution('failed-before')).toMatchObject({ status: 'FAILED', error: 'ImportError' });
    await expect(second.start('crashed', '{"task_id": "c"}')).rejects.toMatchObject({
      type: 'ExecutionAlreadyExists',
    });

    // A third start finds nothing left to do.
    const third = fixtureRunner(30, { store: new ExecutionStore(after), onExecutionEnded: async () => {} });
    expect(await third.recover()).toEqual({ failed: [], reported: [] });
    expect(third.executions().map((execution) => execution.status)).toEqual(['FAILED', 'FAILED']);
  });

  it('reports again an end that never reached the execution-ended cleanup', async () => {
    const directory = tempDir();
    const store = new ExecutionStore(directory);
    store.started('unreported', '{"task_id": "u"}', 100);
    store.ended('unreported', { status: 'TIMED_OUT', stopDate: Date.now() / 1000, error: 'States.Timeout' });
    const reported: ExecutionStatusChangeDetail[] = [];
    const restarted = fixtureRunner(30, {
      store,
      onExecutionEnded: async (detail) => void reported.push(detail),
    });
    expect(await restarted.recover()).toEqual({ failed: [], reported: ['unreported'] });
    await restarted.idle();
    await restarted.execution('unreported')?.done;
    expect(reported).toMatchObject([{ name: 'unreported', status: 'TIMED_OUT', error: 'States.Timeout' }]);
    expect(invocations).toEqual([]);
    expect((await fixtureRunner(30, { store }).recover()).reported).toEqual([]);
  });
});
