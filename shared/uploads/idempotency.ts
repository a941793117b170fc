/**
 * Powertools idempotency for the S3 trigger, stored in the single table: one record per S3 write
 * (bucket, key, ETag and sequencer), so a redelivered event returns the first delivery's result
 * without reading the object again. The records live under their own partition
 * (`pk` = `IDEMPOTENCY#finalise`, `sk` = `finalise#<md5 of the payload>`), carry no index keys, and
 * expire through the table's TTL attribute `ttl`.
 *
 * This is an optimisation, not the protection: the status guard of the finaliser (decide on the
 * image as it is, write conditionally) already makes any delivery order harmless. On the local
 * dynalite it works as on AWS except that there is no TTL (expired records are overwritten, as
 * Powertools' condition allows) and `ReturnValuesOnConditionCheckFailure` is ignored, in which case
 * Powertools reads the existing record with a consistent GetItem instead.
 */
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE_KEYS, TTL_ATTRIBUTE } from '#shared/table';

export const IDEMPOTENCY_PARTITION = 'IDEMPOTENCY#finalise';
export const IDEMPOTENCY_KEY_PREFIX = 'finalise';

/** The records' store: the service's table, through the function's one DynamoDB client. */
export const finalisePersistence = (tableName: string, client: DynamoDBClient): DynamoDBPersistenceLayer =>
  new DynamoDBPersistenceLayer({
    tableName,
    keyAttr: TABLE_KEYS.partition,
    sortKeyAttr: TABLE_KEYS.sort,
    staticPkValue: IDEMPOTENCY_PARTITION,
    expiryAttr: TTL_ATTRIBUTE,
    awsSdkV3Client: client,
  });

/** S3 may redeliver an event hours later; a day covers its retries and the sweeper's re-drive. */
export const finaliseIdempotencyConfig = (): IdempotencyConfig =>
  new IdempotencyConfig({ expiresAfterSeconds: 24 * 3600 });
