/**
 * Finalisation of uploaded data (docs/lifecycle.md#upload-failures, docs/lifecycle.md#data-integrity; decisions D1, D3, D7): the one piece of code that
 * decides an upload's fate, used by the S3 ObjectCreated trigger, by the sweeper (re-drive) and,
 * with bytes already hashed in memory, by the direct `PUT /file` and `PUT /stage`.
 *
 * 1. The key names an image and an upload attempt. Only the key the image waits for
 *    (`image.upload.key`, while the rules allow finishing) is finalised. The image's own data
 *    (`data_key`) is left alone (a duplicate or late event), and so are objects of an image whose
 *    import is running (the import workflow writes its own). Anything else (unknown or deleted
 *    image, stale attempt, killed image) is an orphan: deleted, nothing else changes.
 * 2. The object is read once, streaming: size, md5 and sha512 in one pass (sha512 on a second
 *    thread when there is a second CPU, shared/data/parallel-digest.ts); reading stops as soon as
 *    the data passes the declared size, the size cap or the project's remaining quota.
 * 3. One conditional write: saving → active (size, checksum, hashes, virtual_size, data_key) or
 *    uploading → uploading (size and data_key of the staged data); or → killed with the reason in
 *    `os_glance_failure_reason` and in history, and the object deleted.
 *
 * Duplicate and out-of-order deliveries are harmless: the decision is made on the image as it is
 * now, and every write is conditional on the status and version it was made on.
 */
import { DataTooLarge, type Digest } from '#shared/data/digest';
import { allowedBytes } from '#shared/data/limits';
import { digestStreamFast } from '#shared/data/parallel-digest';
import { applyTrigger } from '#shared/images/actions';
import type { ImageRecord } from '#shared/images/model';
import type { ImageChanges } from '#shared/images/repository';
import { logger } from '#shared/logger';
import { retryOnConflict } from '#shared/retry';
import { decideImage, type ImageTrigger, isGone, TransitionRefused } from '#shared/status-rules';
import { parseUploadKey, type UploadKind } from '#shared/storage/bucket';
import { isPreconditionFailed } from '#shared/storage/object-store';
import type { UploadContext } from './context.ts';
import { inspectImageData, keepHead } from './inspect.ts';

/** The object an event (or a direct upload) is about. */
export interface ObjectRef {
  readonly key: string;
  /** From the event: the read is pinned to this version of the object (`If-Match`). */
  readonly eTag?: string;
  /** From the event: lets a large object be hashed on two threads. */
  readonly size?: number;
}

/** Why data was refused; each maps to the HTTP code Glance gives for it on `PUT /file`. */
export const FAILURE_KINDS = ['size-mismatch', 'too-large', 'quota', 'format'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];
/** Whether a recorded `failure` (history entry of a kill) is one of the data failures. */
export const isFailureKind = (value: unknown): value is FailureKind =>
  (FAILURE_KINDS as readonly unknown[]).includes(value);

export type FinaliseResult =
  | { readonly outcome: 'activated' | 'staged'; readonly image: ImageRecord }
  | {
      readonly outcome: 'killed';
      readonly image: ImageRecord;
      readonly failure: FailureKind;
      readonly reason: string;
    }
  /** The object was not wanted and is deleted. */
  | { readonly outcome: 'orphan'; readonly reason: string }
  /** The object is the image's current data: nothing to do. */
  | { readonly outcome: 'current' }
  /** Not ours to judge (outside the key scheme, import running, object already gone). */
  | { readonly outcome: 'ignored'; readonly reason: string };

/** Bytes already in memory (direct upload) instead of a read from S3. */
export interface InMemoryData {
  readonly digest: Digest;
  readonly head: Uint8Array;
}

export interface FinaliseOptions {
  readonly actor: string;
  readonly data?: InMemoryData;
}

export const finishTrigger = (kind: UploadKind): ImageTrigger =>
  kind === 'file' ? 'uploadFinish' : 'stageFinish';
export const rejectTrigger = (kind: UploadKind): ImageTrigger =>
  kind === 'file' ? 'uploadReject' : 'stageReject';

/** Whether the rules allow `trigger` on the image now. */
export const allows = (image: ImageRecord, trigger: ImageTrigger): boolean => {
  try {
    decideImage(image, trigger);
    return true;
  } catch (error) {
    if (error instanceof TransitionRefused) return false;
    throw error;
  }
};

type Fate = 'expected' | 'current' | 'import' | 'orphan';

/** What an object means for the image as it is now. */
const fateOf = (image: ImageRecord | undefined, key: string, kind: UploadKind): Fate => {
  if (!image || isGone(image.status)) return 'orphan';
  if (image.upload?.key === key) return allows(image, finishTrigger(kind)) ? 'expected' : 'orphan';
  if (image.data_key === key) return 'current';
  // The import workflow moves data while the image is importing: its objects are its own.
  if (allows(image, 'importSucceed')) return 'import';
  return 'orphan';
};

/** What one read of the object found. */
type Measurement =
  | { readonly kind: 'measured'; readonly digest: Digest; readonly head: Uint8Array }
  | { readonly kind: 'over'; readonly limit: number; readonly size: number };

interface Limits {
  readonly declared: number | null;
  readonly sizeCap: number;
  readonly allowed: number;
}

/** Reads the object once; stops at the first of the limits it passes. Undefined: the object is gone. */
const measureObject = async (
  ctx: UploadContext,
  object: ObjectRef,
  limits: Limits,
): Promise<Measurement | undefined> => {
  const maxBytes = Math.min(limits.allowed, limits.declared ?? Number.POSITIVE_INFINITY);
  const read = await ctx.store.read(object.key, { ifMatch: object.eTag });
  if (!read) return undefined;
  const { stream, head } = keepHead(read.body);
  try {
    const digest = await digestStreamFast(stream, {
      maxBytes,
      expectedBytes: object.size ?? limits.declared ?? 0,
    });
    return { kind: 'measured', digest, head: head() };
  } catch (error) {
    if (error instanceof DataTooLarge) return { kind: 'over', limit: error.limit, size: error.size };
    throw error;
  }
};

const SIZE_MISMATCH = 'Size mismatch:';
const OVER_CAP = 'exceeds the image size cap';
const OVER_QUOTA = 'exceeds the storage quota';
const TOO_LARGE = 'Image data too large.';
/** The start of the reason the sweeper records for data too large to hash in its time budget. */
export const UNVERIFIED = 'The data could not be verified within the function time limit';

type Verdict =
  | { readonly accept: true; readonly set: ImageChanges }
  | { readonly accept: false; readonly failure: FailureKind; readonly reason: string };

const MiB = 1024 ** 2;
const bytes = (n: number) => (n >= MiB ? `${n} bytes (${(n / MiB).toFixed(1)} MiB)` : `${n} bytes`);

/** Judges measured data against the image: declared size, size cap, quota, format. */
const judge = (
  image: ImageRecord,
  kind: UploadKind,
  key: string,
  data: Measurement,
  limits: Limits,
): Verdict => {
  const tooBig = (size: number, exact: boolean): Verdict | undefined => {
    const received = exact ? bytes(size) : `at least ${bytes(size)}`;
    if (limits.declared !== null && size > limits.declared) {
      return {
        accept: false,
        failure: 'size-mismatch',
        reason: `${SIZE_MISMATCH} ${bytes(limits.declared)} declared, ${received} received.`,
      };
    }
    if (size > limits.sizeCap) {
      return {
        accept: false,
        failure: 'too-large',
        reason: `Image data (${received}) ${OVER_CAP} of ${bytes(limits.sizeCap)}.`,
      };
    }
    if (size > limits.allowed) {
      return {
        accept: false,
        failure: 'quota',
        reason: `Image data (${received}) ${OVER_QUOTA} of project ${image.owner}: ${bytes(limits.allowed)} left.`,
      };
    }
    return undefined;
  };
  if (data.kind === 'over') {
    return tooBig(data.size, false) ?? { accept: false, failure: 'too-large', reason: TOO_LARGE };
  }
  const { digest } = data;
  const over = tooBig(digest.size, true);
  if (over) return over;
  if (limits.declared !== null && digest.size !== limits.declared) {
    return {
      accept: false,
      failure: 'size-mismatch',
      reason: `${SIZE_MISMATCH} ${bytes(limits.declared)} declared, ${bytes(digest.size)} received.`,
    };
  }
  if (kind === 'stage') return { accept: true, set: { size: digest.size, data_key: key, upload: null } };
  const inspection = inspectImageData(image, data.head, digest.size);
  if (!inspection.ok) return { accept: false, failure: 'format', reason: inspection.reason };
  return {
    accept: true,
    set: {
      size: digest.size,
      virtual_size: inspection.virtual_size,
      checksum: digest.checksum,
      os_hash_algo: digest.os_hash_algo,
      os_hash_value: digest.os_hash_value,
      data_key: key,
      upload: null,
    },
  };
};

const limitsFor = async (ctx: UploadContext, image: ImageRecord): Promise<Limits> => ({
  declared: image.upload?.declared_size ?? null,
  sizeCap: ctx.limits.sizeCap,
  allowed: await allowedBytes(ctx.images, ctx.limits, image),
});

/** Decides and records the fate of one object. Throws only on infrastructure errors (retried). */
export const finaliseUpload = async (
  ctx: UploadContext,
  object: ObjectRef,
  options: FinaliseOptions,
): Promise<FinaliseResult> => {
  const parsed = parseUploadKey(object.key);
  if (!parsed) return { outcome: 'ignored', reason: 'key outside the data path scheme' };
  let measurement: Measurement | undefined = options.data
    ? { kind: 'measured', digest: options.data.digest, head: options.data.head }
    : undefined;

  // Lost a race (deleted, swept, a PATCH): decide again on the record as it is now.
  return retryOnConflict(async () => {
    const image = await ctx.images.get(parsed.imageId);
    const fate = fateOf(image, object.key, parsed.kind);
    if (fate === 'current') return { outcome: 'current' };
    if (fate === 'import') return { outcome: 'ignored', reason: 'the image is importing' };
    if (fate === 'orphan' || !image) {
      const reason = !image
        ? 'no such image'
        : `image is '${image.status}' and waits for ${image.upload ? image.upload.key : 'no upload'}`;
      await ctx.store.delete([object.key]);
      logger.info('deleted orphan object', { key: object.key, reason });
      return { outcome: 'orphan', reason };
    }

    const limits = await limitsFor(ctx, image);
    if (!measurement) {
      try {
        measurement = await measureObject(ctx, object, limits);
      } catch (error) {
        // Overwritten (a newer event will follow).
        if (isPreconditionFailed(error)) return { outcome: 'ignored', reason: 'superseded by a newer write' };
        throw error;
      }
      // Gone (deleted after a kill or by DELETE).
      if (!measurement) return { outcome: 'ignored', reason: 'the object no longer exists' };
    }
    const verdict = judge(image, parsed.kind, object.key, measurement, limits);

    if (verdict.accept) {
      const next = await applyTrigger(ctx.images, image, finishTrigger(parsed.kind), {
        actor: options.actor,
        set: verdict.set,
      });
      logger.debug('upload finalised', { imageId: image.id, key: object.key, status: next.status });
      return { outcome: parsed.kind === 'file' ? 'activated' : 'staged', image: next };
    }
    const next = await applyTrigger(ctx.images, image, rejectTrigger(parsed.kind), {
      actor: options.actor,
      reason: verdict.reason,
      failure: verdict.failure,
    });
    await ctx.store.delete([object.key]);
    logger.info('upload rejected', { imageId: image.id, key: object.key, reason: verdict.reason });
    return { outcome: 'killed', image: next, failure: verdict.failure, reason: verdict.reason };
  });
};
