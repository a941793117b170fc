/**
 * A local Lambda endpoint answering `Invoke` over the service's REST protocol
 * (`POST /2015-03-31/functions/{name}/invocations`), so a function that invokes another does it
 * with the real SDK client exactly as on AWS: `AWS_ENDPOINT_URL_LAMBDA` points the SDK here. The
 * functions run in process through the local Lambda runtime (lambda-runtime.ts), with their timeout
 * enforced (`Sandbox.Timedout`), as Lambda does.
 *
 * `InvocationType: Event` behaves like Lambda's asynchronous invoke: the event is queued and
 * answered with 202 before it runs; a run that fails (or times out) is retried twice, after
 * `retryDelaysMs` (Lambda waits about one and two minutes), and an event that still fails goes to
 * the on-failure destination, here the `failures` list (and the console), as it goes to the
 * function's SQS queue on AWS. `RequestResponse` runs the function and answers its result, or
 * `X-Amz-Function-Error: Unhandled` with the error. Like the other emulators it checks no
 * signatures and no IAM.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { invokeAsync, type LambdaRuntime, type LocalFunction, lambdaRuntime } from './lambda-runtime.ts';
import { listen } from './listen.ts';

/** Lambda's limit on an asynchronous invocation's payload. */
export const ASYNC_PAYLOAD_LIMIT_BYTES = 1024 * 1024;
/** And on a synchronous one's. */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

/** An asynchronous event that failed every attempt: what the on-failure destination receives. */
export interface FailedEvent {
  readonly functionName: string;
  readonly event: unknown;
  readonly attempts: number;
  readonly error: { readonly errorType: string; readonly errorMessage: string };
}

/** One asynchronous event once it has run, for the tests. */
export interface RunEvent {
  readonly functionName: string;
  readonly event: unknown;
  readonly attempts: number;
  readonly result?: unknown;
  readonly error?: FailedEvent['error'];
}

export interface LocalLambdaServiceOptions {
  /** The functions it serves, by name. */
  readonly functions: readonly LocalFunction[];
  /** Delays before the two retries of a failed asynchronous event; locally seconds. */
  readonly retryDelaysMs?: readonly number[];
  readonly runtime?: LambdaRuntime;
  readonly host?: string;
}

export interface LocalLambdaService {
  /** `http://host:port`, for `AWS_ENDPOINT_URL_LAMBDA`. */
  readonly endpoint: string;
  /** Events that failed every attempt (the on-failure destination). */
  readonly failures: readonly FailedEvent[];
  /** Every asynchronous event that finished, succeeded or not. */
  readonly runs: readonly RunEvent[];
  /**
   * Holds queued asynchronous events until `release()`, as Lambda's internal queue may hold them
   * for a while: the tests use it to act between the 202 and the run.
   */
  hold(): void;
  release(): void;
  /** Resolves once no asynchronous event is queued or running (held ones count as queued). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const errorOf = (error: unknown): FailedEvent['error'] => ({
  errorType: error instanceof Error ? error.name : 'Error',
  errorMessage: error instanceof Error ? error.message : String(error),
});

/** `my-function`, `arn:aws:lambda:region:account:function:my-function[:qualifier]` → `my-function`. */
const nameOf = (functionName: string): string => {
  const arn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(functionName);
  return arn?.[1] ?? functionName.split(':')[0] ?? functionName;
};

export const startLocalLambdaService = async (
  options: LocalLambdaServiceOptions,
): Promise<LocalLambdaService> => {
  const runtime = options.runtime ?? lambdaRuntime();
  const functions = new Map(options.functions.map((fn) => [fn.name, fn]));
  const retryDelays = options.retryDelaysMs ?? [1000, 2000];
  const failures: FailedEvent[] = [];
  const runs: RunEvent[] = [];
  const pending = new Set<Promise<void>>();
  let held: (() => void)[] | undefined;
  let closed = false;

  /** Lambda's asynchronous invoke: the first attempt and two retries, then the failure destination. */
  const runAsync = async (fn: LocalFunction, event: unknown): Promise<void> => {
    if (held) await new Promise<void>((resume) => held?.push(resume));
    const outcome = await invokeAsync(runtime, fn, event, {
      retryDelaysMs: retryDelays,
      stopped: () => closed,
      enforceTimeout: true,
    });
    if (outcome.ok) {
      runs.push({ functionName: fn.name, event, attempts: outcome.attempts, result: outcome.result });
      return;
    }
    const failed = {
      functionName: fn.name,
      event,
      attempts: outcome.attempts,
      error: errorOf(outcome.error),
    };
    failures.push(failed);
    runs.push(failed);
    console.error(
      `local Lambda: ${fn.name} failed ${outcome.attempts} time(s); event kept as a failure`,
      failed,
    );
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(
      new URL(req.url ?? '/', 'http://local').pathname,
    );
    if (req.method !== 'POST' || !match) {
      return fail(res, 404, 'UnknownOperationException', `${req.method} ${req.url} is not served locally.`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const payload = Buffer.concat(chunks);
    const fn = functions.get(nameOf(decodeURIComponent(match[1] ?? '')));
    if (!fn) {
      return fail(res, 404, 'ResourceNotFoundException', `Function not found: ${match[1]}`);
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    const limit = type === 'Event' ? ASYNC_PAYLOAD_LIMIT_BYTES : SYNC_PAYLOAD_LIMIT_BYTES;
    if (payload.length > limit) {
      return fail(
        res,
        413,
        'RequestEntityTooLargeException',
        `Request must be smaller than ${limit} bytes for the ${type} invocation type`,
      );
    }
    let event: unknown;
    try {
      event = payload.length ? JSON.parse(payload.toString('utf8')) : {};
    } catch {
      return fail(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    if (type === 'DryRun') return send(res, 204, undefined);
    if (type === 'Event') {
      const run = runAsync(fn, event);
      pending.add(run);
      void run.finally(() => pending.delete(run));
      return send(res, 202, undefined);
    }
    try {
      return send(res, 200, await runtime.invoke(fn, event, { enforceTimeout: true }));
    } catch (error) {
      res.setHeader('X-Amz-Function-Error', 'Unhandled');
      return send(res, 200, errorOf(error));
    }
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) =>
      fail(res, 500, 'ServiceException', `The local Lambda service failed: ${String(error)}`),
    );
  });
  const listening = await listen(server, { host: options.host });

  const idle = async () => {
    while (pending.size) await Promise.allSettled([...pending]);
  };

  return {
    endpoint: listening.endpoint,
    failures,
    runs,
    hold() {
      held ??= [];
    },
    release() {
      const waiting = held ?? [];
      held = undefined;
      for (const resume of waiting) resume();
    },
    idle,
    async close() {
      closed = true;
      const waiting = held ?? [];
      held = undefined;
      for (const resume of waiting) resume();
      await listening.close();
      await idle();
    },
  };
};

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.statusCode = status;
  res.setHeader('x-amzn-RequestId', randomUUID());
  if (body === undefined) return res.end();
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body ?? null));
};

const fail = (res: ServerResponse, status: number, type: string, message: string) => {
  res.setHeader('x-amzn-ErrorType', type);
  send(res, status, { Type: 'User', message });
};
