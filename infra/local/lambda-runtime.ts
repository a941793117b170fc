/**
 * The one local Lambda runtime of the local stack: what the API Gateway adapter, the upload events
 * (S3 trigger, sweeper timer) and the Step Functions runner use to run a function's `handler` the
 * way the Lambda service does. One local account and region, a `Context` with the function's name,
 * memory and deadline, handlers loaded from their entry files on first use (a failed load is tried
 * again on the next invocation, so fixing a broken entry needs no restart), and event and result
 * passed through JSON like an invocation payload. Handlers therefore run locally with nothing
 * local-only in their code.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

/** The account and region of everything the local stack pretends to be. */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** Entries are relative to the repository root unless a runtime is given another one. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The ARN of a local function. */
export const localFunctionArn = (name: string, region = LOCAL_REGION): string =>
  `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${name}`;

/** A function as the local stack knows it: its entry file and the settings its context reports. */
export interface LocalFunction {
  /** The function name (route name, state name, `Finalise`...). */
  readonly name: string;
  /** Entry file relative to the runtime's root; it exports `handler`. */
  readonly entry: string;
  /**
   * `getRemainingTimeInMillis` counts down from this, and an invocation that enforces its
   * timeout fails once it has passed; default 900 s, Lambda's maximum.
   */
  readonly timeoutSeconds?: number;
  /** `memoryLimitInMB`; default 128. */
  readonly memoryMb?: number;
}

export type LambdaHandler = (event: never, context: Context) => unknown;

/** The `Context` Lambda passes a handler, for one invocation starting now. */
export const lambdaContext = (fn: Omit<LocalFunction, 'entry'>): Context => {
  const deadline = Date.now() + (fn.timeoutSeconds ?? 900) * 1000;
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(fn.name),
    memoryLimitInMB: String(fn.memoryMb ?? 128),
    awsRequestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
};

/** JSON in, JSON out, as an invocation payload travels (`undefined` becomes `null`). */
const throughJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null));

/**
 * What Lambda reports when a function runs out of time: the error type `Sandbox.Timedout`, which
 * Step Functions matches in Retry and Catch.
 */
export class FunctionTimedOut extends Error {
  constructor(awsRequestId: string, timeoutSeconds: number) {
    super(`RequestId: ${awsRequestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
    this.name = 'Sandbox.Timedout';
  }
}

export interface InvokeOptions {
  /**
   * Fail the invocation with `FunctionTimedOut` once the function's timeout has passed, as
   * Lambda does. The handler cannot be frozen in-process: it is abandoned, and its result, if
   * any, is ignored. The Step Functions runner turns this on; the API adapter does not (API
   * Gateway answers a timed-out integration with its own 503, not a Glance error).
   */
  readonly enforceTimeout?: boolean;
}

export interface LambdaRuntime {
  /** The handler of an entry, loaded once. */
  handler(entry: string): Promise<LambdaHandler>;
  /** Invokes the function with `event`; resolves with its result, rejects with what it threw. */
  invoke(fn: LocalFunction, event: unknown, options?: InvokeOptions): Promise<unknown>;
}

/** A runtime loading entries relative to `root` (the repository root by default). */
export const lambdaRuntime = (root = REPO_ROOT): LambdaRuntime => {
  const loaded = new Map<string, Promise<LambdaHandler>>();
  const handler = (entry: string): Promise<LambdaHandler> => {
    let loading = loaded.get(entry);
    if (!loading) {
      loading = import(/* @vite-ignore */ pathToFileURL(resolve(root, entry)).href).then((module) => {
        if (typeof module.handler !== 'function') throw new Error(`${entry} does not export a handler`);
        return module.handler as LambdaHandler;
      });
      loading.catch(() => loaded.delete(entry));
      loaded.set(entry, loading);
    }
    return loading;
  };
  return {
    handler,
    async invoke(fn, event, options = {}) {
      const run = await handler(fn.entry);
      const context = lambdaContext(fn);
      const running = Promise.resolve(run(throughJson(event) as never, context));
      if (!options.enforceTimeout) return throughJson(await running);
      const timeoutSeconds = fn.timeoutSeconds ?? 900;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, fail) => {
        timer = setTimeout(
          () => fail(new FunctionTimedOut(context.awsRequestId, timeoutSeconds)),
          timeoutSeconds * 1000,
        );
      });
      // An abandoned handler that fails later must not become an unhandled rejection.
      running.catch(() => {});
      try {
        return throughJson(await Promise.race([running, timedOut]));
      } finally {
        clearTimeout(timer);
      }
    },
  };
};

/** How an asynchronous invocation ended: its result, or the error of its last attempt. */
export type AsyncOutcome =
  | { readonly ok: true; readonly result: unknown; readonly attempts: number }
  | { readonly ok: false; readonly error: unknown; readonly attempts: number };

/**
 * Lambda's asynchronous invoke (an S3 notification, `InvocationType: Event`): the first attempt
 * and, after each of `retryDelaysMs` (two retries about a minute and two apart on AWS; locally
 * seconds), another, until one succeeds; `stopped` ends the retries early (the stack is stopping).
 * What happens to an event that failed every attempt is the caller's (an on-failure destination).
 */
export const invokeAsync = async (
  runtime: LambdaRuntime,
  fn: LocalFunction,
  event: unknown,
  options: { readonly retryDelaysMs: readonly number[]; readonly stopped: () => boolean } & InvokeOptions,
): Promise<AsyncOutcome> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, result: await runtime.invoke(fn, event, options), attempts: attempt };
    } catch (error) {
      const delay = options.retryDelaysMs[attempt - 1];
      if (delay === undefined || options.stopped()) return { ok: false, error, attempts: attempt };
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
};
