/**
 * The local Step Functions runner as AWS runs the synthesized definition: each state's function has
 * the timeout and memory it is deployed with (or a test's shorter timeout), and a function that outlives
 * its timeout fails with `Sandbox.Timedout` (Lambda's error type), which the definition retries for
 * short steps and catches into FailImport for every step; executions kept in a store survive a
 * crash of the process (docs/local-development.md#durable-executions).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STATE_FUNCTIONS } from '#infra/local/step-functions/definition';
import {
  type ExecutionRunner,
  type ExecutionStatusChangeDetail,
  executionRunner,
  RESTART_ERROR,
  type RunnerOptions,
} from '#infra/local/step-functions/runner';
import { ExecutionStore } from '#infra/local/step-functions/store';
import { FAILURE_STATE, STEP_NAMES, STEPS } from '#shared/import/state-machine';
import { contexts, delays, errors, invocations } from '#test/helpers/fixtures/step';

const FIXTURE = 'test/helpers/fixtures/step.ts';
/** Mark and Fetch, cut short so a test can outlive them. */
const SHORT_TIMEOUTS = { Mark: 0.3, Fetch: 0.3 };
let runner: ExecutionRunner;

/** Every state runs the fixture, with its own function's timeout and memory. */
const fixtureRunner = (extra: RunnerOptions = {}) =>
  executionRunner({
    retryIntervalMs: 1,
    functions: Object.fromEntries(
      Object.entries(STATE_FUNCTIONS).map(([name, fn]) => [name, { ...fn, entry: FIXTURE }]),
    ),
    ...extra,
  });

beforeAll(async () => {
  runner = fixtureRunner();
  await runner.definition();
}, 60_000);
afterEach(() => {
  runner.configure({ retryIntervalMs: 1 });
  delays.clear();
  errors.clear();
  contexts.clear();
  invocations.length = 0;
});

const failures = (events: readonly { type: string; [key: string]: unknown }[]) =>
  events
    .filter((event) => event.type === 'LambdaFunctionFailed')
    .map((event) => (event.lambdaFunctionFailedEventDetails as { error: string }).error);

describe('function timeouts in the local runner', () => {
  it('gives each state the timeout and memory its function is deployed with', async () => {
    const execution = await runner.start('in-time', '{"task_id": "t"}');
    await runner.waitFor(execution.name);
    expect(execution.status).toBe('SUCCEEDED');
    expect(invocations).toEqual([...STEP_NAMES]);
    for (const step of STEPS) {
      const context = contexts.get(step.name);
      expect(context?.memoryMb).toBe(step.memoryMb);
      expect(context?.remainingMs).toBeLessThanOrEqual(step.lambdaTimeoutSeconds * 1000);
      expect(context?.remainingMs).toBeGreaterThan((step.lambdaTimeoutSeconds - 5) * 1000);
    }
  });

  it('lets a function with a shortened timeout that finishes in time succeed', async () => {
    runner.configure({ retryIntervalMs: 1, functionTimeoutSeconds: SHORT_TIMEOUTS });
    delays.set('Mark', 100);
    const execution = await runner.start('short-in-time', '{"task_id": "t"}');
    await runner.waitFor(execution.name);
    expect(execution.status).toBe('SUCCEEDED');
    expect(contexts.get('Mark')?.remainingMs).toBeLessThanOrEqual(300);
    expect(contexts.get('Verify')?.remainingMs).toBeGreaterThan(300);
  });

  it('fails a short step with Sandbox.Timedout, retries it once, then catches it into FailImport', async () => {
    runner.configure({ retryIntervalMs: 1, functionTimeoutSeconds: SHORT_TIMEOUTS });
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
    runner.configure({ retryIntervalMs: 1, functionTimeoutSeconds: SHORT_TIMEOUTS });
    delays.set('Fetch', 2_000);
    const execution = await runner.start('fetch-times-out', '{"task_id": "t"}');
    await runner.waitFor(execution.name);
    expect(failures(execution.events)).toEqual(['Sandbox.Timedout']);
    expect(invocations).toEqual(['Mark', 'Fetch', FAILURE_STATE]);
    expect(execution.status).toBe('FAILED');
  });

  it("keeps the timeouts an execution started with; configure without them restores the functions'", async () => {
    runner.configure({ retryIntervalMs: 1, functionTimeoutSeconds: SHORT_TIMEOUTS });
    delays.set('Fetch', 1_000);
    const shortened = await runner.start('started-short', '{"task_id": "t"}');
    runner.configure({ retryIntervalMs: 1 });
    const restored = await runner.start('started-restored', '{"task_id": "t"}');
    await Promise.all([runner.waitFor(shortened.name), runner.waitFor(restored.name)]);
    expect(failures(shortened.events)).toEqual(['Sandbox.Timedout']);
    expect(restored.status).toBe('SUCCEEDED');
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
    const first = fixtureRunner({
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
    const second = fixtureRunner({
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
    const third = fixtureRunner({ store: new ExecutionStore(after), onExecutionEnded: async () => {} });
    expect(await third.recover()).toEqual({ failed: [], reported: [] });
    expect(third.executions().map((execution) => execution.status)).toEqual(['FAILED', 'FAILED']);
  });

  it('reports again an end that never reached the execution-ended cleanup', async () => {
    const directory = tempDir();
    const store = new ExecutionStore(directory);
    store.started('unreported', '{"task_id": "u"}', 100);
    store.ended('unreported', { status: 'TIMED_OUT', stopDate: Date.now() / 1000, error: 'States.Timeout' });
    const reported: ExecutionStatusChangeDetail[] = [];
    const restarted = fixtureRunner({
      store,
      onExecutionEnded: async (detail) => void reported.push(detail),
    });
    expect(await restarted.recover()).toEqual({ failed: [], reported: ['unreported'] });
    await restarted.idle();
    await restarted.execution('unreported')?.done;
    expect(reported).toMatchObject([{ name: 'unreported', status: 'TIMED_OUT', error: 'States.Timeout' }]);
    expect(invocations).toEqual([]);
    expect((await fixtureRunner({ store }).recover()).reported).toEqual([]);
  });
});
