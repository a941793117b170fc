/**
 * Direct uploads (decision D5, docs/lifecycle.md#upload-failures, docs/lifecycle.md#stage-failures): `PUT /v2/images/{id}/file` and `PUT .../stage`
 * with an `application/octet-stream` body small enough for Lambda. The function hashes the bytes in
 * memory, writes them to the upload's key and finalises synchronously with the same code as the S3
 * trigger, so a 204 means what it means in Glance: `active` (file) or `uploading` with the size
 * recorded (stage). The S3 event that follows finds the image's own data and does nothing.
 *
 * Everything that can be refused is refused before the status changes (Glance restores `queued` in
 * those cases; here the image never leaves it): 415 content type, 400 bad or mismatching size
 * header, 409 status, 400 formats missing, 413 size cap / quota / body too large (naming the
 * presign endpoints), 415 data not in the declared format or unsafe (docs/image-formats.md, with
 * the reason; Glance too leaves the image `queued`). The loser of two concurrent uploads gets
 * 410, as in Glance; so does an upload whose image was deleted meanwhile.
 */

import type { Caller } from '#shared/auth';
import { digestBytes } from '#shared/data/digest';
import {
  BadRequest,
  Conflict,
  type GlanceError,
  Gone,
  PayloadTooLarge,
  UnsupportedMediaType,
} from '#shared/errors';
import { decideImageData } from '#shared/image-format/decision';
import { inspectBytes } from '#shared/image-format/inspector';
import { actorOf } from '#shared/images/access';
import { applyTrigger } from '#shared/images/actions';
import { FAILURE_REASON_PROPERTY, type ImageRecord } from '#shared/images/model';
import { logger } from '#shared/logger';
import { isKilled } from '#shared/status-rules';
import { newUploadId, OCTET_STREAM, type UploadKind, uploadKey } from '#shared/storage/bucket';
import type { UploadContext } from './context.ts';
import { type FailureKind, finaliseUpload, isFailureKind, rejectTrigger } from './finalise.ts';
import { loadImageForUpload } from './load.ts';
import {
  isoAfter,
  requireRoomFor,
  requireTrigger,
  startTrigger,
  startUpload,
  UploadRaceLost,
} from './start-upload.ts';

/**
 * Largest body `PUT /file` and `PUT /stage` accept. Lambda takes at most 6 MB (6,291,456 bytes)
 * per invocation, and API Gateway hands binary bodies over base64-encoded (4/3 of their size), so
 * binary data must stay under 4.5 MiB; 64 KiB are left for the rest of the event (headers...).
 */
export const MAX_DIRECT_UPLOAD_BYTES = Math.floor(((6_291_456 - 64 * 1024) * 3) / 4);

const tooLarge = (imageId: string, kind: UploadKind) =>
  new PayloadTooLarge(
    `A direct upload takes at most ${MAX_DIRECT_UPLOAD_BYTES} bytes (the Lambda request limit). ` +
      `Upload larger data straight to S3: POST /v2/images/${imageId}/${kind}/presign with {"size": <bytes>} ` +
      `returns presigned PUT or multipart URLs (or use: npx serverless-glance upload ${imageId} <file>${kind === 'stage' ? ' --stage' : ''}).`,
  );

/** `Content-Length` / `x-openstack-image-size`: absent, or a non-negative integer (else 400). */
const sizeHeader = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d+$/.test(value.trim())) throw new BadRequest(`Header ${name} must be a non-negative integer.`);
  return Number(value.trim());
};

const failureError = (failure: FailureKind, reason: string): GlanceError => {
  switch (failure) {
    case 'size-mismatch':
      return new BadRequest(reason);
    case 'format':
      return new UnsupportedMediaType(reason);
    case 'too-large':
    case 'quota':
    // Data too large to verify in the time there was.
    case 'unverified':
      return new PayloadTooLarge(reason);
  }
};

/** What a direct upload reads of the API request. */
export interface DirectUploadRequest {
  readonly caller: Caller;
  readonly path: Readonly<Record<string, string | undefined>>;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

export const directUpload = async (
  ctx: UploadContext,
  request: DirectUploadRequest,
  kind: UploadKind,
): Promise<void> => {
  const { caller, headers } = request;
  const imageId = request.path.image_id ?? '';
  const type = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== OCTET_STREAM) {
    throw new UnsupportedMediaType(
      `Content-Type must be ${OCTET_STREAM} (got '${headers['content-type'] ?? ''}').`,
    );
  }
  const contentLength = sizeHeader(headers['content-length'], 'Content-Length');
  if (contentLength !== undefined && contentLength > MAX_DIRECT_UPLOAD_BYTES) throw tooLarge(imageId, kind);
  const declared = sizeHeader(headers['x-openstack-image-size'], 'x-openstack-image-size');

  const image = await loadImageForUpload(ctx.images, caller, imageId, kind);
  const body = request.body;
  if (body.byteLength > MAX_DIRECT_UPLOAD_BYTES) throw tooLarge(image.id, kind);
  if (declared !== undefined && declared !== body.byteLength) {
    throw new BadRequest(
      `Size mismatch: x-openstack-image-size says ${declared}, the body has ${body.byteLength} bytes.`,
    );
  }
  requireTrigger(image, startTrigger(kind));
  requireRoomFor(ctx, body.byteLength);
  // Staged data is inspected by the import that uses it; file data here, before anything changes.
  const inspection = inspectBytes(body);
  if (kind === 'file') {
    const verdict = decideImageData(image, inspection, ctx.formatPolicy);
    if (!verdict.accept) throw new UnsupportedMediaType(verdict.reason);
  }

  const actor = actorOf(caller);
  const now = new Date();
  const key = uploadKey(kind, image.id, newUploadId());
  let started: Awaited<ReturnType<typeof startUpload>>;
  try {
    started = await startUpload(ctx, image, kind, {
      actor,
      upload: {
        kind,
        key,
        declared_size: body.byteLength,
        deadline: isoAfter(now, ctx.settings.uploadUrlSeconds + ctx.settings.uploadGraceSeconds),
      },
    });
  } catch (error) {
    if (error instanceof UploadRaceLost) {
      throw new Gone(`Image ${image.id} is being uploaded by another request (or was deleted).`, {
        cause: error,
      });
    }
    throw error;
  }

  const digest = digestBytes(body);
  try {
    await ctx.store.putNew(key, body, digest.checksum);
  } catch (error) {
    // Nothing was stored: give the image back (T4) instead of leaving it for the sweeper.
    await applyTrigger(ctx.images, started, 'sweep', {
      actor,
      reason: `The data could not be stored: ${(error as Error).name}.`,
      set: { upload: null },
    }).catch((revert: unknown) =>
      logger.error('could not restore queued', { imageId: image.id, error: revert as Error }),
    );
    throw error;
  }

  const result = await finaliseUpload(ctx, { key }, { actor, data: { digest, inspection } });
  switch (result.outcome) {
    case 'activated':
    case 'staged':
    // The S3 trigger (fired by the PutObject above) finalised this very object first.
    case 'current':
      return;
    case 'killed':
      throw failureError(result.failure, result.reason);
    default: {
      // The trigger may have judged this object first and killed the image (its view of the quota
      // can differ from ours): answer with what its recorded failure implies, not 410.
      const killed = await killOf(ctx, started, kind);
      if (killed) throw killed;
      if (result.outcome === 'orphan') throw new Gone(`Image ${image.id} was deleted during the upload.`);
      throw new Conflict(`Image ${image.id} changed during the upload.`);
    }
  }
};

/**
 * The error for the kill of this upload, when the transition right after its start (`started`) is
 * the reject of its data; undefined otherwise (deleted, swept, ...).
 */
const killOf = async (
  ctx: UploadContext,
  started: ImageRecord,
  kind: UploadKind,
): Promise<GlanceError | undefined> => {
  const now = await ctx.images.get(started.id);
  if (!now || !isKilled(now.status)) return undefined;
  const [next] = (await ctx.images.historyPage(now, { after: started.version, limit: 1 })).entries;
  if (next?.trigger !== rejectTrigger(kind)) return undefined;
  const reason = next.reason ?? now.properties[FAILURE_REASON_PROPERTY] ?? 'The data was refused.';
  return isFailureKind(next.failure)
    ? failureError(next.failure, reason)
    : new Conflict(`Image ${started.id} was killed during the upload: ${reason}`);
};
