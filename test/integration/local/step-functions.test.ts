/**
 * The local Step Functions runner as AWS runs the synthesized definition: a function that outlives
 * its timeout fails with `Sandbox.Timedout` (Lambda's error type), which the definition retries for
 * short steps and catches into FailImport for every step.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ExecutionRunner, executionRunner } from '#infra/local/step-functions/runner';
import { FAILURE_STATE, STEP_NAMES } from '#shared/import/state-machine';
import { delays, invocations } from '#test/helpers/fixtures/step';

const FIXTURE = 'test/helpers/fixtures/step.ts';
let runner: ExecutionRunner;

beforeAll(async () => {
  runner = executionRunner({
    retryIntervalMs: 1,
    // Every state runs the fixture; Mark and Fetch time out after 0.3 s.
    functions: Object.fromEntries(
      [...STEP_NAMES, FAILURE_STATE].map((name) => [
        name,
        { entry: FIXTURE, timeoutSeconds: name === 'Mark' || name === 'Fetch' ? 0.3 : 30 },
      ]),
    ),
  });
  await runner.definition();
}, 60_000);
afterEach(() => {
  delays.clear();
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
