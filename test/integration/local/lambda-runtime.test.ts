/**
 * The local Lambda runtime ends an invocation at its function's timeout when asked to (the Step
 * Functions runner asks), with the error Step Functions reports for it (`Sandbox.Timedout`), so the
 * import workflow's timeout retry runs locally as it would on AWS; the API adapter does not ask.
 */
import { describe, expect, it } from 'vitest';
import { lambdaRuntime } from '#infra/local/lambda-runtime';

const slow = { name: 'Slow', entry: 'test/helpers/fixtures/slow.ts' };

describe('local Lambda runtime timeouts', () => {
  it('fails an invocation that outlives its timeout with Sandbox.Timedout', async () => {
    const runtime = lambdaRuntime();
    const error = await runtime
      .invoke({ ...slow, timeoutSeconds: 0.05 }, { ms: 1000 }, { enforceTimeout: true })
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('Sandbox.Timedout');
    expect((error as Error).message).toMatch(/ Error: Task timed out after 0\.05 seconds$/);
  });

  it('answers an invocation that finishes in time', async () => {
    const runtime = lambdaRuntime();
    expect(
      await runtime.invoke({ ...slow, timeoutSeconds: 2 }, { ms: 10 }, { enforceTimeout: true }),
    ).toEqual({ waited: 10 });
  });

  it('waits for the handler when the timeout is not enforced', async () => {
    const runtime = lambdaRuntime();
    expect(await runtime.invoke({ ...slow, timeoutSeconds: 0.01 }, { ms: 100 })).toEqual({ waited: 100 });
  });
});
