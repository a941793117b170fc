/**
 * The data path's two non-HTTP event sources in the local stack, calling the very handlers CDK
 * deploys through the local Lambda runtime (lambda-runtime.ts): s3rver's `ObjectCreated` events
 * (real S3 event records, keys under `images/` and `staging/`, as the bucket notification filters
 * them on AWS) go to the finaliser, with S3's two asynchronous-invoke retries (`invokeAsync`); and
 * a timer stands in for the EventBridge schedule of the sweeper.
 *
 * Environment: `SWEEP_INTERVAL_SECONDS` (default 30; 0 turns the timer off) and
 * `LOCAL_FINALISER=off` (tests that deliver S3 events by hand).
 */
import type { S3Event } from 'aws-lambda';
import {
  COMPLETE_ENTRY,
  COMPLETE_MEMORY_MB,
  COMPLETE_TIMEOUT_SECONDS,
  DATA_PATH_TIMEOUT_SECONDS,
  FINALISE_ENTRY,
  FINALISE_MEMORY_MB,
  SWEEP_ENTRY,
} from '#infra/functions';
import { DATA_PREFIX, decodeS3EventKey, STAGING_PREFIX } from '#shared/storage/bucket';
import type { ObjectCreatedListener } from './emulators.ts';
import { invokeAsync, type LocalFunction, lambdaRuntime } from './lambda-runtime.ts';

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

/** The two functions, with the settings CDK gives them (infra/functions.ts). */
const dataPathFunction = (name: string, entry: string): LocalFunction => ({
  name,
  entry,
  timeoutSeconds: DATA_PATH_TIMEOUT_SECONDS,
  memoryMb: FINALISE_MEMORY_MB,
});
const FINALISE = dataPathFunction('Finalise', FINALISE_ENTRY);
const SWEEPER = dataPathFunction('Sweeper', SWEEP_ENTRY);
/**
 * The completion function, invoked asynchronously by `.../complete` through the local Lambda
 * endpoint (lambda-service.ts) under the name `COMPLETE_UPLOAD_FUNCTION` gives it.
 */
export const COMPLETER: LocalFunction = {
  name: 'CompleteUpload',
  entry: COMPLETE_ENTRY,
  timeoutSeconds: COMPLETE_TIMEOUT_SECONDS,
  memoryMb: COMPLETE_MEMORY_MB,
};

const isDataKey = (encodedKey: string) => {
  const key = decodeS3EventKey(encodedKey);
  return key.startsWith(DATA_PREFIX) || key.startsWith(STAGING_PREFIX);
};

export const startUploadEvents = (options: UploadEventsOptions): UploadEvents => {
  const runtime = lambdaRuntime();
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
            const outcome = await invokeAsync(
              runtime,
              FINALISE,
              { Records: records },
              {
                retryDelaysMs: retryDelays,
                stopped: () => stopped,
              },
            );
            if (!outcome.ok) throw outcome.error;
          })(),
        );
      })
    : () => {};

  let running: Promise<unknown> | undefined;
  const sweep = () => {
    running ??= track(
      (async () => {
        return runtime.invoke(SWEEPER, { time: new Date().toISOString() });
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
