/**
 * Assembles a multipart upload that `.../complete` checked and queued (invoked asynchronously by
 * the API function; docs/uploads.md#completing-a-multipart-upload). S3 keeps CompleteMultipartUpload
 * open while it assembles, for minutes on a large object, so this function has a timeout of
 * minutes (infra/functions.ts). Parts S3 will not assemble send the image back to queued at once
 * (`refused`). Any other failure throws: Lambda retries twice, then the event lands in the
 * `CompleteFailures` queue, and the sweeper returns the image to queued at the upload's deadline.
 */
import type { Context } from 'aws-lambda';
import { logger, withLambdaContext } from '#shared/logger';
import { uploadContext } from '#shared/runtime';
import { type CompletionOutcome, finishCompletion, parseCompletionRequest } from '#shared/uploads/complete';

export const handler = withLambdaContext(
  async (event: unknown, _context?: Context): Promise<{ outcome: CompletionOutcome }> => {
    const request = parseCompletionRequest(event);
    const outcome = await finishCompletion(uploadContext(), request);
    if (outcome === 'completed') logger.info('multipart upload completed', { ...request });
    else logger.warn('nothing to complete', { ...request, outcome });
    return { outcome };
  },
);
