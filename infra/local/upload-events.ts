/**
 * The data path's two non-HTTP event sources in the local stack, calling the very handlers CDK
 * deploys: s3rver's `ObjectCreated` events (real S3 event records, keys under `images/` and
 * `staging/`, as the bucket notification filters them on AWS) go to the finaliser, with S3's two
 * asynchronous-invoke retries; and a timer stands in for the EventBridge schedule of the sweeper.
 *
 * Environment: `SWEEP_INTERVAL_SECONDS` (default 30; 0 turns the timer off) and
 * `LOCAL_FINALISER=off` (tests that deliver S3 events by hand).
 */
import { randomUUID } from 'node:crypto';
import type { Context, S3Event } from 'aws-lambda';
import { DATA_PREFIX, decodeS3EventKey, STAGING_PREFIX } from '#shared/storage/bucket';
import type { ObjectCreatedListener } from './emulators.ts';

export interface UploadEventsOptions {
  readonly onObjectCreated: (listener: ObjectCreatedListener) => () => void;
  /** Defaults to `SWEEP_INTERVAL_SECONDS` (30 s); 0 disables the timer. */
  readonly sweepIntervalMs?: number;
  /** Defaults to true unless `LOCAL_FINALISER=off`. */
  readonly finalise?: boolean;
  /** Delays before S3's retries of a failed invocation (AWS waits minutes; locally seconds). */
  readonly retryDelaysMs?: readonly number[];
}

export interface UploadEvents {
  /** Runs the sweeper once now (what the timer does). */
  sweep(): Promise<unknown>;
  stop(): Promise<void>;
}

const lambdaContext = (name: string, timeoutSeconds: number): Context => {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    memoryLimitInMB: '1769',
    awsRequestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
};

const isDataKey = (encodedKey: string) => {
  const key = decodeS3EventKey(encodedKey);
  return key.startsWith(DATA_PREFIX) || key.startsWith(STAGING_PREFIX);
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const startUploadEvents = (options: UploadEventsOptions): UploadEvents => {
  const finalise = options.finalise ?? process.env.LOCAL_FINALISER !== 'off';
  const interval = options.sweepIntervalMs ?? Number(process.env.SWEEP_INTERVAL_SECONDS ?? 30) * 1000;
  const retryDelays = options.retryDelaysMs ?? [1000, 2000];
  const pending = new Set<Promise<unknown>>();
  let stopped = false;
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    void work.finally(() => pending.delete(work)).catch(() => {});
    return work;
  };

  const unsubscribe = finalise
    ? options.onObjectCreated((event: S3Event) => {
        // The bucket notification on AWS is filtered to these prefixes.
        const records = event.Records.filter((record) => isDataKey(record.s3.object.key));
        if (records.length === 0) return;
        return track(
          (async () => {
            const { handler } = await import('#functions/uploads/finalise');
            for (let attempt = 0; ; attempt++) {
              try {
                await handler({ Records: records }, lambdaContext('Finalise', 900));
                return;
              } catch (error) {
                const delay = retryDelays[attempt];
                if (delay === undefined || stopped) throw error;
                await sleep(delay);
              }
            }
          })(),
        );
      })
    : () => {};

  let running: Promise<unknown> | undefined;
  const sweep = () => {
    running ??= track(
      (async () => {
        const { handler } = await import('#functions/uploads/sweep');
        return handler({ time: new Date().toISOString() });
      })(),
    ).finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer =
    interval > 0
      ? setInterval(() => {
          sweep().catch((error: unknown) => console.error('upload sweeper failed', error));
        }, interval)
      : undefined;
  timer?.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      unsubscribe();
      await Promise.allSettled([...pending]);
    },
  };
};
