/**
 * How long a multipart upload may live (decision D2). The bucket's lifecycle rule aborts incomplete
 * multipart uploads `MULTIPART_LIFECYCLE_DAYS` after their initiation (infra/constructs/data.ts),
 * behind the service's back. Invariant: an upload's deadline, re-sign extensions included, stays
 * strictly before that, so the lifecycle never aborts an upload an image still waits for in
 * `saving`/`uploading`; the sweeper handles it first, after its deadline. The upload is created at
 * or after `started_at` (the request time), and S3 only rounds the lifecycle's time up.
 */
import type { PendingUpload } from '#shared/images/model';

const HOUR = 3600;

/** The completion function's timeout (infra/functions.ts): S3 may take minutes to assemble. */
export const COMPLETE_TIMEOUT_SECONDS = 900;

/** How long a queued completion may wait for its first or a retried run before Lambda drops it. */
export const COMPLETE_MAX_EVENT_AGE_SECONDS = 3600;

/**
 * How long after `.../complete` answers 202 the assembled object may still appear: the last run
 * starts before the event's maximum age and ends by its timeout. The upload's deadline is held at
 * least this far out, so the sweeper never takes an upload S3 is assembling for queued.
 */
export const COMPLETION_WINDOW_SECONDS = COMPLETE_MAX_EVENT_AGE_SECONDS + COMPLETE_TIMEOUT_SECONDS;

/** Days after initiation at which the bucket aborts an incomplete multipart upload. */
export const MULTIPART_LIFECYCLE_DAYS = 2;

/** The latest a multipart upload's deadline may be, in seconds after it started: an hour short of the lifecycle. */
export const MAX_MULTIPART_SECONDS = MULTIPART_LIFECYCLE_DAYS * 24 * HOUR - HOUR;

/**
 * An upload's deadline when URLs are issued at `now`: `now + seconds` (URL expiry plus grace), for
 * a multipart upload no later than `MAX_MULTIPART_SECONDS` after it started.
 */
export const uploadDeadline = (
  upload: Pick<PendingUpload, 'multipart_upload_id' | 'started_at'>,
  now: Date,
  seconds: number,
): string => {
  let at = now.getTime() + seconds * 1000;
  if (upload.multipart_upload_id) {
    const started = upload.started_at ? Date.parse(upload.started_at) : now.getTime();
    at = Math.min(at, started + MAX_MULTIPART_SECONDS * 1000);
  }
  return new Date(at).toISOString();
};
