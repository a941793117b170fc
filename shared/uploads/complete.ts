/**
 * `POST /v2/images/{id}/file/complete` and `.../stage/complete`, in two halves
 * (docs/uploads.md#completing-a-multipart-upload):
 *
 * - `completeUpload`, in the API function: checks the request against the image and against
 *   ListParts, holds the upload's deadline past the assembly's longest run, then asks for the
 *   assembly (`Completions.start`, an asynchronous Lambda invoke) and answers 202. 409 when the
 *   image is not in saving/uploading (for this kind) or the upload is gone (expired, swept, or
 *   already completed); 400 for an unknown or foreign `upload_id`, a single-PUT upload, missing or
 *   extra parts, or an ETag that is not the one S3 has for that part. A refused request leaves the
 *   multipart upload open for a corrected one.
 * - `finishCompletion`, in its own function with a timeout of minutes: S3's
 *   CompleteMultipartUpload keeps the connection open while it assembles, which for a large object
 *   can take far longer than an API function (or API Gateway's 30 seconds) may wait. It re-reads the
 *   image, and completes only the upload the image still waits for, with the parts S3 holds.
 *
 * The object that appears is finalised by the S3 trigger like any other upload. Parts S3 will not
 * assemble send the image back to queued at once (trigger `sweep`, with the reason); an object that
 * never appears is swept back to queued at the upload's deadline.
 */
import type { Part } from '@aws-sdk/client-s3';
import { BadRequest, Conflict } from '#shared/errors';
import { applyTrigger } from '#shared/images/actions';
import type { ImageRecord, PendingUpload } from '#shared/images/model';
import type { ImageConflict, ImageRepository } from '#shared/images/repository';
import { retryOnConflict } from '#shared/retry';
import { type UploadKind, uploadIdOf } from '#shared/storage/bucket';
import { isS3Error, type ObjectStore } from '#shared/storage/object-store';
import { COMPLETER_ACTOR, type UploadContext } from './context.ts';
import { allows, finishTrigger } from './finalise.ts';
import { COMPLETION_WINDOW_SECONDS } from './lifetime.ts';
import { type CompleteBody, normaliseEtag, partCountOf } from './plan.ts';
import { extendUpload, pendingUploadOf } from './presign.ts';

/** What the API function hands the completion function: small, and enough to find the rest. */
export interface CompletionRequest {
  readonly image_id: string;
  readonly kind: UploadKind;
  readonly upload_id: string;
}

/** The port through which the API asks for an assembly (shared/uploads/completions.ts). */
export interface Completions {
  /** Queues the completion; resolves once it is queued, long before it runs. */
  start(request: CompletionRequest): Promise<void>;
}

type MultipartUpload = PendingUpload & {
  readonly multipart_upload_id: string;
  readonly part_size: number;
  readonly declared_size: number;
};

const isMultipart = (upload: PendingUpload): upload is MultipartUpload =>
  Boolean(upload.multipart_upload_id) && upload.part_size !== undefined && upload.declared_size !== null;

const ranges = (numbers: number[]): string => {
  const shown = numbers.slice(0, 20).join(', ');
  return numbers.length > 20 ? `${shown} and ${numbers.length - 20} more` : shown;
};

const gone = (uploadId: string, cause?: unknown) =>
  new Conflict(`Upload ${uploadId} no longer exists (expired or already completed).`, { cause });

/** The checks of `.../complete`, before anything is asked of S3 but ListParts. */
export const checkCompletion = async (
  ctx: Pick<UploadContext, 'store'>,
  image: ImageRecord,
  kind: UploadKind,
  body: CompleteBody,
): Promise<MultipartUpload> => {
  const upload = pendingUploadOf(image, kind, body.uploadId);
  if (!isMultipart(upload)) {
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
    if (isS3Error(error, 'NoSuchUpload', '404')) throw gone(body.uploadId);
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
  return upload;
};

/** The API half: checks the request, holds the upload for its assembly, then queues the assembly. */
export const completeUpload = async (
  ctx: Pick<UploadContext, 'store' | 'images'>,
  completions: Completions,
  image: ImageRecord,
  kind: UploadKind,
  body: CompleteBody,
  now = new Date(),
): Promise<void> => {
  await checkCompletion(ctx, image, kind, body);
  // The deadline moves out to when the queued assembly must have ended, before it is queued: the
  // sweeper would otherwise find no object yet at the old deadline, send the image back to queued
  // and abort the parts S3 is assembling, after the client was told 202. An upload already past
  // its deadline is the sweeper's: 409.
  await extendUpload(ctx.images, image, kind, body.uploadId, now, () => COMPLETION_WINDOW_SECONDS, {
    refuseExpired: true,
  });
  await completions.start({ image_id: image.id, kind, upload_id: body.uploadId });
};

/**
 * The completion request is not one (a malformed invocation): nothing to assemble or to give back;
 * the invocation fails into the completion's dead-letter queue.
 */
export class CompletionRefused extends Error {
  override readonly name = 'CompletionRefused';
}

/** What one completion did; the function returns it, and logs the no-ops. */
export type CompletionOutcome =
  | 'completed'
  /** The image no longer waits for this upload (swept, deleted, finalised, another upload). */
  | 'not-pending'
  /** S3 has no such multipart upload any more: completed by an earlier invocation, or aborted. */
  | 'gone'
  /** S3 refused the parts, or they no longer match the plan: the image went back to queued. */
  | 'refused';

/** Parses the asynchronous invocation's payload; anything else is a refused completion. */
export const parseCompletionRequest = (event: unknown): CompletionRequest => {
  const request = event as Partial<CompletionRequest> | null;
  if (
    typeof request?.image_id !== 'string' ||
    typeof request.upload_id !== 'string' ||
    (request.kind !== 'file' && request.kind !== 'stage')
  ) {
    throw new CompletionRefused(`Not a completion request: ${JSON.stringify(event)}`);
  }
  return { image_id: request.image_id, kind: request.kind, upload_id: request.upload_id };
};

/** The multipart upload of `image` that `request` names, when the image still waits for it. */
const awaited = (image: ImageRecord | undefined, request: CompletionRequest): MultipartUpload | undefined => {
  const upload = image?.upload;
  return image &&
    upload &&
    allows(image, finishTrigger(request.kind)) &&
    upload.kind === request.kind &&
    uploadIdOf(upload) === request.upload_id &&
    isMultipart(upload)
    ? upload
    : undefined;
};

type CompletionContext = {
  readonly images: Pick<ImageRepository, 'get' | 'transition'>;
  readonly store: Pick<ObjectStore, 'listParts' | 'completeMultipartUpload' | 'abortMultipart'>;
};

/**
 * The asynchronous half. Invoked twice, or again by Lambda's retries after a failure or a timeout,
 * it completes at most once: the second finds the multipart upload gone (`gone`), or the image no
 * longer waiting for it (`not-pending`). The key is this attempt's alone and the completion never
 * replaces an object already there. Parts S3 will not assemble, or that no longer match the plan
 * (which S3 would assemble into an object of the wrong size), cannot get better by retrying: the
 * image goes back to queued with the reason and the parts are aborted (`refused`).
 */
export const finishCompletion = async (
  ctx: CompletionContext,
  request: CompletionRequest,
): Promise<CompletionOutcome> => {
  const image = await ctx.images.get(request.image_id);
  const upload = awaited(image, request);
  if (!image || !upload) return 'not-pending';

  let parts: Part[];
  try {
    parts = await ctx.store.listParts(upload.key, upload.multipart_upload_id);
  } catch (error) {
    if (isS3Error(error, 'NoSuchUpload', '404')) return 'gone';
    throw error;
  }
  // The API checked every part against the plan; a part uploaded again since is S3's to assemble.
  const count = partCountOf(upload.declared_size, upload.part_size);
  const numbers = parts.map((part) => part.PartNumber ?? 0).sort((a, b) => a - b);
  if (numbers.length !== count || numbers.some((number, index) => number !== index + 1)) {
    return refuse(
      ctx,
      image,
      upload,
      `Upload ${request.upload_id} has parts ${ranges(numbers)}; its plan has ${count}.`,
    );
  }

  try {
    await ctx.store.completeMultipartUpload(
      upload.key,
      upload.multipart_upload_id,
      parts
        .map((part) => ({ partNumber: part.PartNumber ?? 0, etag: normaliseEtag(part.ETag ?? '') }))
        .sort((a, b) => a.partNumber - b.partNumber),
    );
  } catch (error) {
    // Completed by an invocation that ran out of time after S3 had started, or aborted meanwhile.
    if (isS3Error(error, 'NoSuchUpload', 'PreconditionFailed', '404', '412')) return 'gone';
    if (isS3Error(error, 'InvalidPart', 'InvalidPartOrder', 'EntityTooSmall')) {
      return refuse(
        ctx,
        image,
        upload,
        `S3 refused the parts of upload ${request.upload_id}: ${(error as Error).name}.`,
      );
    }
    throw error;
  }
  return 'completed';
};

/**
 * Gives up an upload whose parts cannot be assembled: the image back to queued (a race with an edit
 * is retried on the fresh image; one that no longer waits for this upload is left alone), then the
 * parts aborted, so nothing waits for the sweeper's deadline.
 */
const refuse = async (
  ctx: CompletionContext,
  image: ImageRecord,
  upload: MultipartUpload,
  reason: string,
): Promise<CompletionOutcome> => {
  const request = { image_id: image.id, kind: upload.kind, upload_id: uploadIdOf(upload) };
  const gaveBack = await retryOnConflict<boolean, ImageConflict>(async (previous) => {
    const current = previous ? previous.current : image;
    if (!awaited(current, request) || !current) return false;
    await applyTrigger(ctx.images, current, 'sweep', {
      actor: COMPLETER_ACTOR,
      reason,
      set: { upload: null },
    });
    return true;
  });
  if (!gaveBack) return 'not-pending';
  await ctx.store.abortMultipart(upload.key, upload.multipart_upload_id);
  return 'refused';
};
