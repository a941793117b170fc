/**
 * `POST /v2/images/{id}/file/complete` and `.../stage/complete`: assembles a multipart upload once
 * every part is in S3. Nothing changes status here: the object that appears is finalised by the S3
 * trigger like any other upload, so the answer is 202 and the image is still saving/uploading.
 *
 * 409 when the image is not in saving/uploading (for this kind) or the upload is gone (swept);
 * 400 for an unknown or foreign `upload_id`, a single-PUT upload, missing or extra parts, or an
 * ETag that is not the one S3 has for that part (checked with ListParts before completing, so the
 * client gets a clear message and the multipart upload stays open for a corrected request).
 */
import type { Part } from '@aws-sdk/client-s3';
import { BadRequest, Conflict } from '#shared/errors';
import type { ImageRecord } from '#shared/images/model';
import type { UploadKind } from '#shared/storage/bucket';
import { isS3Error } from '#shared/storage/object-store';
import type { UploadContext } from './context.ts';
import { type CompleteBody, normaliseEtag, partCountOf } from './plan.ts';
import { pendingUploadOf } from './presign.ts';

const ranges = (numbers: number[]): string => {
  const shown = numbers.slice(0, 20).join(', ');
  return numbers.length > 20 ? `${shown} and ${numbers.length - 20} more` : shown;
};

export const completeUpload = async (
  ctx: UploadContext,
  image: ImageRecord,
  kind: UploadKind,
  body: CompleteBody,
): Promise<void> => {
  const upload = pendingUploadOf(image, kind, body.uploadId);
  if (!upload.multipart_upload_id || upload.part_size === undefined || upload.declared_size === null) {
    throw new BadRequest(`Upload ${body.uploadId} is a single PUT; there is nothing to complete.`);
  }
  const count = partCountOf(upload.declared_size, upload.part_size);
  const given = new Set(body.parts.map((part) => part.part_number));
  const missing = Array.from({ length: count }, (_, index) => index + 1).filter((n) => !given.has(n));
  const extra = [...given].filter((n) => n > count);
  if (missing.length || extra.length) {
    throw new BadRequest(
      [
        `Upload ${body.uploadId} has ${count} parts.`,
        missing.length ? `Missing part(s): ${ranges(missing)}.` : '',
        extra.length ? `No such part(s): ${ranges(extra)}.` : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
  }

  let uploaded: Part[];
  try {
    uploaded = await ctx.store.listParts(upload.key, upload.multipart_upload_id);
  } catch (error) {
    if (isS3Error(error, 'NoSuchUpload', '404')) {
      throw new Conflict(`Upload ${body.uploadId} no longer exists (expired or already completed).`);
    }
    throw error;
  }
  const etags = new Map(uploaded.map((part) => [part.PartNumber, normaliseEtag(part.ETag ?? '')]));
  const notUploaded = body.parts.filter((part) => !etags.has(part.part_number)).map((p) => p.part_number);
  const wrong = body.parts
    .filter((part) => etags.has(part.part_number) && etags.get(part.part_number) !== part.etag)
    .map((part) => part.part_number);
  if (notUploaded.length || wrong.length) {
    throw new BadRequest(
      [
        notUploaded.length ? `Part(s) not uploaded: ${ranges(notUploaded)}.` : '',
        wrong.length ? `ETag does not match the uploaded part(s): ${ranges(wrong)}.` : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
  }

  try {
    // The key is this attempt's alone: never replace an object already there.
    await ctx.store.completeMultipartUpload(
      upload.key,
      upload.multipart_upload_id,
      body.parts.map((part) => ({ partNumber: part.part_number, etag: part.etag })),
    );
  } catch (error) {
    if (isS3Error(error, 'InvalidPart', 'InvalidPartOrder', 'EntityTooSmall')) {
      throw new BadRequest(`S3 refused the parts: ${(error as Error).message}`, { cause: error });
    }
    if (isS3Error(error, 'NoSuchUpload', 'PreconditionFailed', '404', '412')) {
      throw new Conflict(`Upload ${body.uploadId} no longer exists (expired or already completed).`, {
        cause: error,
      });
    }
    throw error;
  }
};
