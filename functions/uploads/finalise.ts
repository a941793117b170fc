/**
 * The S3 `ObjectCreated` trigger of the data bucket (prefixes `images/` and `staging/`): finalises
 * each record's upload to active, uploading-with-size or killed (shared/uploads/finalise.ts), once
 * per S3 write thanks to Powertools idempotency. Locally the s3rver event emitter calls this same
 * handler with the same S3 event records (infra/local/upload-events.ts).
 *
 * A failed record fails the invocation after the others were processed, so S3's asynchronous
 * invoke retries it (twice); records already done return their stored result on the retry.
 */
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { logger, withLambdaContext } from '#shared/logger';
import { recordFinalise } from '#shared/metrics';
import { dynamoDbClient, serviceConfig, uploadContext } from '#shared/runtime';
import { decodeS3EventKey } from '#shared/storage/bucket';
import { TRIGGER_ACTOR } from '#shared/uploads/context';
import { finaliseUpload } from '#shared/uploads/finalise';
import {
  finaliseIdempotencyConfig,
  finalisePersistence,
  IDEMPOTENCY_KEY_PREFIX,
} from '#shared/uploads/idempotency';

/** What identifies one S3 write: the idempotency payload. */
interface S3Write {
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
  readonly sequencer: string;
  readonly size: number;
}

export interface RecordResult {
  readonly key: string;
  readonly outcome: string;
  readonly status?: string;
  readonly reason?: string;
}

const idempotencyConfig = finaliseIdempotencyConfig();

/** Finalises one write; verification stops before the invocation's time runs out. */
const finalise = async (write: S3Write, context: Context): Promise<RecordResult> => {
  const started = Date.now();
  const result = await finaliseUpload(
    uploadContext(),
    { key: write.key, eTag: write.eTag || undefined, size: write.size },
    {
      actor: TRIGGER_ACTOR,
      budget: { remainingMs: () => context.getRemainingTimeInMillis() },
    },
  );
  recordFinalise(result.outcome, Date.now() - started, write.size);
  return {
    key: write.key,
    outcome: result.outcome,
    ...('image' in result ? { status: result.image.status } : {}),
    ...('reason' in result ? { reason: result.reason } : {}),
  };
};

/**
 * `finalise` at most once per S3 write (the write is the idempotency payload: Powertools takes a
 * function whose second argument is a Lambda context as a handler);
 * built on the first invocation, with the runtime's table and client.
 */
let finaliseOnce: ((write: S3Write, context: Context) => Promise<RecordResult>) | undefined;
const finaliseWrite = (write: S3Write, context: Context): Promise<RecordResult> => {
  finaliseOnce ??= makeIdempotent(finalise, {
    persistenceStore: finalisePersistence(serviceConfig().tableName, dynamoDbClient()),
    config: idempotencyConfig,
    keyPrefix: IDEMPOTENCY_KEY_PREFIX,
  });
  return finaliseOnce(write, context);
};

const writeOf = (record: S3EventRecord): S3Write => ({
  bucket: record.s3.bucket.name,
  key: decodeS3EventKey(record.s3.object.key),
  eTag: record.s3.object.eTag ?? '',
  sequencer: record.s3.object.sequencer ?? '',
  size: record.s3.object.size ?? 0,
});

export const handler = withLambdaContext(
  async (event: S3Event, context: Context): Promise<RecordResult[]> => {
    idempotencyConfig.registerLambdaContext(context);
    const { bucketName } = serviceConfig();
    const results: RecordResult[] = [];
    const failures: unknown[] = [];
    // S3's test notification (s3:TestEvent) has no Records.
    for (const record of event.Records ?? []) {
      if (!record.eventName?.startsWith('ObjectCreated:')) continue;
      const write = writeOf(record);
      if (write.bucket !== bucketName) {
        logger.warn('event for another bucket ignored', { bucket: write.bucket });
        continue;
      }
      try {
        const result = await finaliseWrite(write, context);
        results.push(result);
        logger.debug('object finalised', { ...result });
      } catch (error) {
        logger.error('finalisation failed', { key: write.key, error: error as Error });
        failures.push(error);
      }
    }
    if (failures.length) throw new AggregateError(failures, `${failures.length} record(s) failed`);
    return results;
  },
);
