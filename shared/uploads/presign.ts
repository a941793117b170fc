/**
 * Presigned uploads (decision D5): `POST /v2/images/{id}/file/presign` and `.../stage/presign`.
 *
 * A new upload: the rules are asked first (409 not queued, 400 formats missing for file), a
 * declared size must fit the size cap and the remaining quota (413), then the image moves
 * queued → saving / uploading in one conditional write that records the upload's one key, declared
 * size and deadline; only the winner of that write gets URLs (the losers of a race get 409, and an
 * S3 multipart upload a loser created is aborted at once).
 *
 * Each URL names exactly that key, expires within `UPLOAD_URL_SECONDS` (≤ 15 minutes) and, when
 * the size is declared, signs `Content-Length` (S3 then refuses any other length). A single PUT
 * also signs `If-None-Match: *`, so the object cannot be overwritten once written.
 *
 * `{"upload_id"}` (optionally `"part_numbers"`) asks for fresh URLs of an upload in flight (an
 * interrupted CLI resuming, or a large multipart upload outliving its first URLs); it pushes the
 * upload's deadline out accordingly.
 */
import type { Caller } from '#shared/auth';
import { BadRequest, Conflict } from '#shared/errors';
import { actorOf } from '#shared/images/access';
import { MULTIPART_UPLOAD_ID_LENGTH } from '#shared/images/budget';
import type { ImageRecord, PendingUpload } from '#shared/images/model';
import type { ImageConflict, ImageRepository } from '#shared/images/repository';
import { retryOnConflict } from '#shared/retry';
import { newUploadId, type UploadKind, uploadIdOf, uploadKey } from '#shared/storage/bucket';
import { presignPut, presignUploadPart } from '#shared/storage/presign';
import type { UploadContext } from './context.ts';
import { finishTrigger } from './finalise.ts';
import { uploadDeadline } from './lifetime.ts';
import { type PresignBody, partCountOf, partLength, planUpload } from './plan.ts';
import {
  isoAfter,
  requireRoomFor,
  requireTrigger,
  startTrigger,
  startUpload,
  UploadRaceLost,
} from './start-upload.ts';

export interface SinglePutAnswer {
  readonly upload_id: string;
  readonly method: 'PUT';
  readonly url: string;
  /** Headers the PUT must carry exactly (they are signed). */
  readonly headers: Record<string, string>;
  readonly expires_at: string;
}

export interface MultipartAnswer {
  readonly upload_id: string;
  readonly method: 'multipart';
  readonly size: number;
  readonly part_size: number;
  readonly part_count: number;
  /** URLs for the first parts (or the asked-for ones); ask for more with `{"upload_id", "part_numbers"}`. */
  readonly parts: { part_number: number; size: number; url: string }[];
  readonly expires_at: string;
  /** Where to send `{"upload_id", "parts": [{"part_number", "etag"}]}` once every part is up. */
  readonly complete_url: string;
}

export type PresignAnswer = SinglePutAnswer | MultipartAnswer;

/** Presigns UploadPart URLs, each signing its exact part length. */
const presignParts = (
  ctx: UploadContext,
  upload: PendingUpload & { multipart_upload_id: string; part_size: number; declared_size: number },
  numbers: readonly number[],
  expiresIn: number,
) =>
  Promise.all(
    numbers.map(async (number) => {
      const size = partLength(number, upload.declared_size, upload.part_size);
      const part = { key: upload.key, uploadId: upload.multipart_upload_id, partNumber: number, size };
      return { part_number: number, size, url: await presignUploadPart(ctx.store, part, expiresIn) };
    }),
  );

const isMultipart = (
  upload: PendingUpload,
): upload is PendingUpload & { multipart_upload_id: string; part_size: number; declared_size: number } =>
  upload.multipart_upload_id !== undefined && upload.part_size !== undefined && upload.declared_size !== null;

const graceFor = (ctx: UploadContext, upload: Pick<PendingUpload, 'multipart_upload_id'>) =>
  upload.multipart_upload_id ? ctx.settings.multipartGraceSeconds : ctx.settings.uploadGraceSeconds;

const answerFor = async (
  ctx: UploadContext,
  image: ImageRecord,
  upload: PendingUpload,
  partNumbers: readonly number[] | null,
  now: Date,
): Promise<PresignAnswer> => {
  const expiresIn = ctx.settings.uploadUrlSeconds;
  const expires_at = isoAfter(now, expiresIn);
  const upload_id = uploadIdOf(upload);
  if (!isMultipart(upload)) {
    if (partNumbers) throw new BadRequest(`Upload ${upload_id} is a single PUT; it has no parts.`);
    const { url, headers } = await presignPut(ctx.store, upload.key, upload.declared_size, expiresIn);
    return { upload_id, method: 'PUT', url, headers, expires_at };
  }
  const part_count = partCountOf(upload.declared_size, upload.part_size);
  const wanted =
    partNumbers ??
    Array.from({ length: Math.min(part_count, ctx.settings.maxPartUrls) }, (_, index) => index + 1);
  const beyond = wanted.filter((number) => number > part_count);
  if (beyond.length) {
    throw new BadRequest(`Upload ${upload_id} has ${part_count} parts; no part ${beyond.join(', ')}.`);
  }
  return {
    upload_id,
    method: 'multipart',
    size: upload.declared_size,
    part_size: upload.part_size,
    part_count,
    parts: await presignParts(ctx, upload, wanted, expiresIn),
    expires_at,
    complete_url: `/v2/images/${image.id}/${upload.kind}/complete`,
  };
};

/**
 * A new multipart upload. Its id is kept on the image, whose budget counts it at most
 * `MULTIPART_UPLOAD_ID_LENGTH` characters (S3's are about 100): a longer one is aborted.
 */
const createMultipartUpload = async (ctx: UploadContext, key: string): Promise<string> => {
  const id = await ctx.store.createMultipartUpload(key);
  if (id.length > MULTIPART_UPLOAD_ID_LENGTH) {
    await ctx.store.abortMultipart(key, id);
    throw new Error(`S3 returned a multipart upload id of ${id.length} characters.`);
  }
  return id;
};

/** `POST .../presign`: a new upload, or fresh URLs for the one in flight. */
export const presignUpload = async (
  ctx: UploadContext,
  caller: Caller,
  image: ImageRecord,
  kind: UploadKind,
  body: PresignBody,
  now = new Date(),
): Promise<PresignAnswer> => {
  if (body.kind === 'resign') return resign(ctx, image, kind, body.uploadId, body.partNumbers, now);

  requireTrigger(image, startTrigger(kind));
  if (body.size !== null) requireRoomFor(ctx, body.size);
  const plan = planUpload(body.size, ctx.settings);
  const key = uploadKey(kind, image.id, newUploadId());
  const multipart =
    plan.method === 'multipart'
      ? { multipart_upload_id: await createMultipartUpload(ctx, key), part_size: plan.partSize }
      : {};
  const started_at = now.toISOString();
  const upload: PendingUpload = {
    kind,
    key,
    declared_size: body.size,
    deadline: uploadDeadline(
      { ...multipart, started_at },
      now,
      ctx.settings.uploadUrlSeconds + graceFor(ctx, multipart),
    ),
    started_at,
    ...multipart,
  };
  let started: ImageRecord;
  try {
    started = await startUpload(ctx, image, kind, { actor: actorOf(caller), upload });
  } catch (error) {
    if (multipart.multipart_upload_id) await ctx.store.abortMultipart(key, multipart.multipart_upload_id);
    if (error instanceof UploadRaceLost) {
      throw error.refusal instanceof Conflict
        ? error.refusal
        : new Conflict(`Image ${image.id} was changed by another request.`, { cause: error });
    }
    throw error;
  }
  return answerFor(ctx, started, upload, null, now);
};

/**
 * The upload in flight that `upload_id` names: 409 when the image is not waiting for data of this
 * kind, 400 when the id is not the one it waits for (unknown, stale or another image's).
 */
export const pendingUploadOf = (image: ImageRecord, kind: UploadKind, uploadId: string): PendingUpload => {
  requireTrigger(image, finishTrigger(kind));
  const upload = image.upload;
  if (!upload) throw new Conflict(`Image ${image.id} is not waiting for an upload.`);
  if (upload.kind !== kind || uploadIdOf(upload) !== uploadId) {
    throw new BadRequest(`Unknown upload_id ${uploadId} for image ${image.id}.`);
  }
  return upload;
};

/**
 * Holds the upload `uploadId` names on `image` at least `secondsFor(upload)` past `now` (never past a multipart
 * upload's maximum lifetime), on the fresh image when a concurrent write wins: the upload in flight
 * and the image as saved. 409 when the image no longer exists or no longer waits for the upload, and,
 * with `refuseExpired`, when the upload's deadline has passed (it is the sweeper's then).
 */
export const extendUpload = (
  images: ImageRepository,
  image: ImageRecord,
  kind: UploadKind,
  uploadId: string,
  now: Date,
  secondsFor: (upload: PendingUpload) => number,
  { refuseExpired = false } = {},
): Promise<{ image: ImageRecord; upload: PendingUpload }> =>
  retryOnConflict<{ image: ImageRecord; upload: PendingUpload }, ImageConflict>(async (previous) => {
    if (previous && !previous.current) throw new Conflict(previous.message, { cause: previous });
    const current = previous?.current ?? image;
    const upload = pendingUploadOf(current, kind, uploadId);
    if (refuseExpired && upload.deadline < now.toISOString()) {
      throw new Conflict(`Upload ${uploadId} expired at ${upload.deadline}; presign a new upload.`);
    }
    const deadline = uploadDeadline(upload, now, secondsFor(upload));
    if (deadline <= upload.deadline) return { image: current, upload };
    const extended = { ...upload, deadline };
    return { image: await images.update(current, { upload: extended }, now), upload: extended };
  });

/** Fresh URLs for the upload in flight, its deadline moved out by their lifetime and the grace. */
const resign = async (
  ctx: UploadContext,
  image: ImageRecord,
  kind: UploadKind,
  uploadId: string,
  partNumbers: readonly number[] | null,
  now: Date,
): Promise<PresignAnswer> => {
  const held = await extendUpload(
    ctx.images,
    image,
    kind,
    uploadId,
    now,
    (upload) => ctx.settings.uploadUrlSeconds + graceFor(ctx, upload),
  );
  return answerFor(ctx, held.image, held.upload, partNumbers, now);
};
