/**
 * The local Lambda endpoint (infra/local/lambda-service.ts) through the real SDK client, as the
 * complete routes invoke the completion function: an `Event` invoke is answered 202 before the
 * function runs; a failed run is retried twice, then kept as a failure (the on-failure queue on
 * AWS); the function's timeout is enforced; synchronous invokes answer the result or the error.
 */
import { randomUUID } from 'node:crypto';
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLambdaService, startLocalLambdaService } from '#infra/local/lambda-service';

let service: LocalLambdaService;
let client: LambdaClient;

beforeAll(async () => {
  service = await startLocalLambdaService({
    functions: [
      { name: 'Flaky', entry: 'test/helpers/fixtures/flaky.ts', timeoutSeconds: 5 },
      { name: 'Slow', entry: 'test/helpers/fixtures/slow.ts', timeoutSeconds: 0.2 },
    ],
    retryDelaysMs: [10, 20],
  });
  client = new LambdaClient({
    endpoint: service.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(() => service.close());

const invoke = (name: string, payload: unknown, type: 'Event' | 'RequestResponse' = 'Event') =>
  client.send(
    new InvokeCommand({
      FunctionName: name,
      InvocationType: type,
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
const runsOf = (key: string) => service.runs.filter((run) => (run.event as { key?: string }).key === key);

describe('local Lambda endpoint', () => {
  it('answers an Event invoke with 202 before the function runs', async () => {
    const key = randomUUID();
    service.hold();
    expect((await invoke('Flaky', { key, failures: 0 })).StatusCode).toBe(202);
    await new Promise((wait) => setTimeout(wait, 50));
    expect(runsOf(key)).toEqual([]);
    service.release();
    await service.idle();
    expect(runsOf(key)).toMatchObject([{ attempts: 1, result: { calls: 1 } }]);
  });

  it('retries a failed run, and the retry that succeeds ends it', async () => {
    const key = randomUUID();
    await invoke('Flaky', { key, failures: 2 });
    await service.idle();
    expect(runsOf(key)).toMatchObject([{ attempts: 3, result: { calls: 3 } }]);
    expect(service.failures.filter((failure) => (failure.event as { key: string }).key === key)).toEqual([]);
  });

  it('keeps an event that failed the first run and both retries as a failure', async () => {
    const key = randomUUID();
    await invoke('Flaky', { key, failures: 5 });
    await service.idle();
    expect(service.failures.filter((failure) => (failure.event as { key: string }).key === key)).toEqual([
      {
        functionName: 'Flaky',
        event: { key, failures: 5 },
        attempts: 3,
        error: { errorType: 'Error', errorMessage: 'failure 3 of 5' },
      },
    ]);
  });

  it("ends a run at the function's timeout, as a failure (Sandbox.Timedout)", async () => {
    await invoke('Slow', { ms: 1000 });
    await service.idle();
    const failure = service.failures.find((f) => f.functionName === 'Slow');
    expect(failure).toMatchObject({ attempts: 3, error: { errorType: 'Sandbox.Timedout' } });
  });

  it('answers a synchronous invoke with the result, or the error as Lambda reports it', async () => {
    const key = randomUUID();
    const failed = await invoke('Flaky', { key, failures: 1 }, 'RequestResponse');
    expect(failed).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled' });
    expect(JSON.parse(new TextDecoder().decode(failed.Payload))).toEqual({
      errorType: 'Error',
      errorMessage: 'failure 1 of 1',
    });
    const again = await invoke('Flaky', { key, failures: 1 }, 'RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(again.Payload))).toEqual({ calls: 2 });
  });

  it('refuses an unknown function and an asynchronous payload over 1 MB', async () => {
    await expect(invoke('Nope', {})).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(invoke('Flaky', { key: 'x'.repeat(1024 * 1024), failures: 0 })).rejects.toMatchObject({
      name: 'RequestEntityTooLargeException',
    });
  });
});
