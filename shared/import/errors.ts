/**
 * The two errors workflow handlers throw on purpose. Their `name` is what Lambda reports as the
 * error type and what Step Functions matches in `Retry` / `Catch` (the local runner matches the
 * same `name`), so it must stay exactly `TransientError` / `ImportError` (state-machine.ts).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { isGlanceError, RecordConflict } from '#shared/errors';
import { ERROR_NAMES } from './state-machine.ts';

/** Will probably work if tried again: retried by the state's `Retry`. */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = ERROR_NAMES.transient;
  }
}

/** Will not work whatever is retried: the import fails with this message (task `message`, image reason). */
export class ImportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = ERROR_NAMES.permanent;
  }
}

/** Throttling and server-side errors of AWS services that the SDK gave up retrying. */
const TRANSIENT_AWS_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'InternalError',
  'InternalServerError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TransactionConflictException',
]);

/** Socket-level failures worth another try. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface AwsLikeError {
  readonly name?: string;
  readonly code?: string;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Whether an error (from the SDK, the network, a lost race) is worth retrying. */
export const isTransient = (error: unknown): boolean => {
  if (error instanceof TransientError) return true;
  if (error instanceof ImportError) return false;
  // A lost conditional write: the step re-reads and decides again on the next attempt.
  if (error instanceof RecordConflict) return true;
  if (error instanceof ConditionalCheckFailedException) return true;
  if (error === null || typeof error !== 'object') return false;
  const aws = error as AwsLikeError;
  if (aws.$retryable) return true;
  if ((aws.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (aws.name && TRANSIENT_AWS_NAMES.has(aws.name)) return true;
  if (aws.name === 'TimeoutError') return true;
  return aws.code !== undefined && TRANSIENT_CODES.has(aws.code);
};

/**
 * What a handler lets escape: our two errors as they are, retryable failures as
 * `TransientError`, and the message of any other error as `ImportError` (a refusal of the status
 * rules, a missing object). Programming errors keep their own name (`TypeError`...): they are
 * not retried and reach the failure branch like any permanent error.
 */
export const classify = (error: unknown): Error => {
  if (error instanceof TransientError || error instanceof ImportError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isTransient(error)) return new TransientError(message, { cause: error });
  if (isGlanceError(error)) return new ImportError(message, { cause: error });
  // A service refusal (AccessDenied, NoSuchBucket...): name it, it will not get better.
  if ((error as AwsLikeError).$metadata)
    return new ImportError(`${(error as Error).name}: ${message}`, { cause: error });
  if (error instanceof Error && error.name !== 'Error') return error;
  return new ImportError(message, { cause: error });
};
