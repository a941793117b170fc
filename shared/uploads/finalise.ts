/**
 * Finalisation of uploaded data (docs/lifecycle.md#upload-failures, docs/lifecycle.md#data-integrity; decisions D1, D3, D7): the one piece of code that
 * decides an upload's fate, used by the S3 ObjectCreated trigger, by the sweeper (re-drive) and,
 * with bytes already hashed in memory, by the direct `PUT /file` and `PUT /stage`.
 *
 * 1. The key names an image and an upload attempt. Only the key the image waits for
 *    (`image.upload.key`, while the rules allow finishing) is finalised. The image's own data
 *    (`data_key`, kept until the image is `deleted`: `pending_delete` too) is left alone (a duplicate or
 *    late event), and so are objects of an image whose
 *    import is running (the import workflow writes its own). Anything else (unknown or deleted
 *    image, stale attempt, killed image) is an orphan: deleted, nothing else changes.
 * 2. The object is read once, with several ranged GETs in flight (docs/uploads.md#ranged-reads), by
 *    the verify pass (shared/data/verify.ts): size, md5 and sha512 (on two worker threads when
 *    there is a second CPU) and, for file data in a `bare` container, the disk-format inspection
 *    (docs/image-formats.md). An object larger than the declared size, the size cap or the
 *    project's remaining quota is refused without being read; reading stops if it grows past them,
 *    and when the invocation's time is nearly up.
 * 3. One conditional write: saving → active (size, checksum, hashes, virtual_size, data_key) or
 *    uploading → uploading (size and data_key of the staged data); or → killed with the reason in
 *    `os_glance_failure_reason` and in history, and the object deleted: data over a limit, not in
 *    its declared format or unsafe, or not verified in time.
 *
 * Duplicate and out-of-order deliveries are harmless: the decision is made on the image as it is
 * now, and every write is conditional on the status and version it was made on.
 */
import { DataTooLarge, type Digest } from '#shared/data/digest';
import { allowedBytes } from '#shared/data/limits';
import { type TimeBudget, VerificationTimedOut, verifyData } from '#shared/data/verify';
import { decideImageData, type ImageFormatPolicy } from '#shared/image-format/decision';
import type { Inspection } from '#shared/image-format/inspector';
import { applyTrigger } from '#shared/images/actions';
import type { ImageRecord } from '#shared/images/model';
import type { ImageChanges } from '#shared/images/repository';
import { lockHolder } from '#shared/import/lock';
import { logger } from '#shared/logger';
import { QuotaExceeded, type QuotaName } from '#shared/quotas/usage';
import { retryOnConflict } from '#shared/retry';
import {
  decideImage,
  type ImageTrigger,
  isGone,
  keepsItsData,
  TransitionRefused,
} from '#shared/status-rules';
import { imageDataKeyOf, parseUploadKey, stagingKeyOf, type UploadKind } from '#shared/storage/bucket';
import { isPreconditionFailed } from '#shared/storage/object-store';
import type { UploadContext } from './context.ts';

/** The object an event (or a direct upload) is about. */
export interface ObjectRef {
  readonly key: string;
  /** From the event: the read is pinned to this version of the object (`If-Match`). */
  readonly eTag?: string;
  /** From the event: lets a large object be hashed on two threads. */
  readonly size?: number;
}

/** Why data was refused; each maps to the HTTP code Glance gives for it on `PUT /file`. */
export const FAILURE_KINDS = ['size-mismatch', 'too-large', 'quota', 'format', 'unverified'] as const;
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

/** Bytes already in memory (direct upload), hashed and inspected, instead of a read from S3. */
export interface InMemoryData {
  readonly digest: Digest;
  readonly inspection: Inspection;
}

export interface FinaliseOptions {
  readonly actor: string;
  readonly data?: InMemoryData;
  /** The invocation's time: reading stops (and the image is killed) before it runs out. */
  readonly budget?: TimeBudget;
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
  if (!image) return 'orphan';
  // Before `isGone`: a late event for the data of a `pending_delete` image must not delete what
  // the scrubber is to delete later.
  if (image.data_key === key && keepsItsData(image.status)) return 'current';
  if (isGone(image.status)) return 'orphan';
  if (image.upload?.key === key) return allows(image, finishTrigger(kind)) ? 'expected' : 'orphan';
  // The import workflow moves data while the image is importing: the objects of the task holding
  // its lock are its own. Anything else (a late object of an upload swept before the import) is not.
  if (allows(image, 'importSucceed')) return isImportObject(image, key) ? 'import' : 'orphan';
  return 'orphan';
};

/** Whether `key` is one the import holding the image's lock writes (its staged download or its copy). */
const isImportObject = (image: ImageRecord, key: string): boolean => {
  const task = lockHolder(image);
  return (
    task !== undefined && (key === stagingKeyOf(image.id, task) || key === imageDataKeyOf(image.id, task))
  );
};

/** What one read of the object found. */
type Measurement =
  | { readonly kind: 'measured'; readonly digest: Digest; readonly inspection: Inspection | null }
  /** Past a limit: `size` is the object's size (`exact`) or how far the read got. */
  | { readonly kind: 'over'; readonly size: number; readonly exact: boolean }
  | { readonly kind: 'timed-out'; readonly read: number; readonly size: number; readonly ms: number };

interface Limits {
  readonly declared: number | null;
  readonly sizeCap: number;
  /** The quota the data counts against, and what the owner has left of it (or the cap). */
  readonly quota: QuotaName;
  readonly allowed: number;
}

/**
 * Reads the object once (the verify pass over a ranged read); an object already larger than a
 * limit is not read at all. Undefined: the object is gone.
 */
const measureObject = async (
  ctx: UploadContext,
  object: ObjectRef,
  limits: Limits,
  options: { readonly inspect: boolean; readonly budget?: TimeBudget },
): Promise<Measurement | undefined> => {
  const maxBytes = Math.min(limits.allowed, limits.declared ?? Number.POSITIVE_INFINITY);
  // The verify pass is done with each chunk before it asks for the next.
  const opened = await ctx.store.openRanged(object.key, { ifMatch: object.eTag, reuseBuffers: true });
  if (!opened) return undefined;
  if (opened.size > maxBytes) return { kind: 'over', size: opened.size, exact: true };
  try {
    const { digest, inspection } = await verifyData(opened.chunks, {
      maxBytes,
      expectedBytes: opened.size,
      inspect: options.inspect,
      budget: options.budget,
    });
    return { kind: 'measured', digest, inspection };
  } catch (error) {
    if (error instanceof DataTooLarge) return { kind: 'over', size: error.size, exact: false };
    if (error instanceof VerificationTimedOut) {
      return { kind: 'timed-out', read: error.bytes, size: opened.size, ms: error.ms };
    }
    throw error;
  }
};

const SIZE_MISMATCH = 'Size mismatch:';
const OVER_CAP = 'exceeds the image size cap';
const OVER_QUOTA = 'exceeds the quota';
const TOO_LARGE = 'Image data too large.';
/** The start of the reason recorded for data that could not be read and hashed in the time there was. */
export const UNVERIFIED = 'The data could not be verified within the function time limit';

type Verdict =
  | { readonly accept: true; readonly set: ImageChanges }
  | { readonly accept: false; readonly failure: FailureKind; readonly reason: string };

const MiB = 1024 ** 2;
const bytes = (n: number) => (n >= MiB ? `${n} bytes (${(n / MiB).toFixed(1)} MiB)` : `${n} bytes`);

/** Judges measured data against the image: time, declared size, size cap, quota, format. */
const judge = (
  image: ImageRecord,
  kind: UploadKind,
  key: string,
  data: Measurement,
  limits: Limits,
  policy: ImageFormatPolicy,
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
        reason: `Image data (${received}) ${OVER_QUOTA} ${limits.quota} of project ${image.owner}: ${bytes(limits.allowed)} left.`,
      };
    }
    return undefined;
  };
  if (data.kind === 'timed-out') {
    return {
      accept: false,
      failure: 'unverified',
      reason: `${UNVERIFIED}: ${data.read} of ${data.size} bytes read in ${Math.round(data.ms / 1000)} s.`,
    };
  }
  if (data.kind === 'over') {
    return tooBig(data.size, data.exact) ?? { accept: false, failure: 'too-large', reason: TOO_LARGE };
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
  // Staged data is inspected by the import that uses it (its Verify step).
  if (kind === 'stage') return { accept: true, set: { size: digest.size, data_key: key, upload: null } };
  // Not inspected: a container other than `bare` (docs/image-formats.md#the-decision).
  const format = data.inspection ? decideImageData(image, data.inspection, policy) : undefined;
  if (format && !format.accept) return { accept: false, failure: 'format', reason: format.reason };
  if (format?.warnings.length)
    logger.info('image data accepted with warnings', { imageId: image.id, warnings: format.warnings });
  return {
    accept: true,
    set: {
      size: digest.size,
      virtual_size: format?.virtual_size ?? null,
      checksum: digest.checksum,
      os_hash_algo: digest.os_hash_algo,
      os_hash_value: digest.os_hash_value,
      data_key: key,
      upload: null,
    },
  };
};

/** The quota uploaded data of a kind counts against (docs/quotas.md#held-usage). */
const quotaOf = (kind: UploadKind): QuotaName => (kind === 'file' ? 'image_size_total' : 'image_stage_total');

const limitsFor = async (ctx: UploadContext, image: ImageRecord, kind: UploadKind): Promise<Limits> => ({
  declared: image.upload?.declared_size ?? null,
  sizeCap: ctx.limits.sizeCap,
  quota: quotaOf(kind),
  allowed: await allowedBytes(ctx.images, ctx.limits, image, quotaOf(kind)),
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
    ? { kind: 'measured', digest: options.data.digest, inspection: options.data.inspection }
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

    const limits = await limitsFor(ctx, image, parsed.kind);
    if (!measurement) {
      try {
        measurement = await measureObject(ctx, object, limits, {
          inspect: parsed.kind === 'file' && image.container_format === 'bare',
          budget: options.budget,
        });
      } catch (error) {
        // Overwritten (a newer event will follow).
        if (isPreconditionFailed(error)) return { outcome: 'ignored', reason: 'superseded by a newer write' };
        throw error;
      }
      // Gone (deleted after a kill or by DELETE).
      if (!measurement) return { outcome: 'ignored', reason: 'the object no longer exists' };
    }
    let verdict = judge(image, parsed.kind, object.key, measurement, limits, ctx.formatPolicy);

    if (verdict.accept) {
      try {
        const next = await applyTrigger(ctx.images, image, finishTrigger(parsed.kind), {
          actor: options.actor,
          set: verdict.set,
        });
        logger.debug('upload finalised', { imageId: image.id, key: object.key, status: next.status });
        return { outcome: parsed.kind === 'file' ? 'activated' : 'staged', image: next };
      } catch (error) {
        // Data of undeclared size is reserved here, and a concurrent upload took the room first.
        if (!(error instanceof QuotaExceeded)) throw error;
        verdict = { accept: false, failure: 'quota', reason: `Image data ${OVER_QUOTA}: ${error.message}` };
      }
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
