import { describe, expect, it } from 'vitest';
import { invokeAsync, type LambdaRuntime, type LocalFunction } from '#infra/local/lambda-runtime';

const FN: LocalFunction = { name: 'Fn', entry: 'unused.ts' };

/** A runtime whose invocations fail `failures` times, then answer `done`. */
const failing = (failures: number) => {
  let calls = 0;
  const runtime: LambdaRuntime = {
    handler: () => Promise.reject(new Error('not used')),
    invoke: async () => {
      calls++;
      if (calls <= failures) throw new Error(`attempt ${calls} failed`);
      return 'done';
    },
  };
  return { runtime, calls: () => calls };
};

describe('invokeAsync (Lambda asynchronous invoke)', () => {
  it.each([
    [0, { ok: true, result: 'done', attempts: 1 }],
    [1, { ok: true, result: 'done', attempts: 2 }],
    [2, { ok: true, result: 'done', attempts: 3 }],
  ])('retries after each delay until an attempt succeeds (%i failures)', async (failures, expected) => {
    const { runtime } = failing(failures);
    expect(await invokeAsync(runtime, FN, {}, { retryDelaysMs: [1, 1], stopped: () => false })).toEqual(
      expected,
    );
  });

  it('gives up after the last retry with the last error', async () => {
    const { runtime, calls } = failing(5);
    const outcome = await invokeAsync(runtime, FN, {}, { retryDelaysMs: [1, 1], stopped: () => false });
    expect(outcome).toMatchObject({ ok: false, attempts: 3, error: { message: 'attempt 3 failed' } });
    expect(calls()).toBe(3);
  });

  it('retries no more once stopped', async () => {
    const { runtime, calls } = failing(5);
    const outcome = await invokeAsync(runtime, FN, {}, { retryDelaysMs: [1, 1], stopped: () => true });
    expect(outcome).toMatchObject({ ok: false, attempts: 1 });
    expect(calls()).toBe(1);
  });
});
