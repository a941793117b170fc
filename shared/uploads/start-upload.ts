/**
 * Starting an upload (T2, T6): the conditional transition queued → saving (file) or queued →
 * uploading (stage) that also records the pending upload (its one key, declared size and deadline)
 * and puts the image in the pending-upload index, all in one write. Shared by the direct
 * `PUT /file|/stage` and by `POST .../presign`.
 */

import { PayloadTooLarge } from '#shared/errors';
import { applyTrigger } from '#shared/images/actions';
import type { ImageRecord, PendingUpload } from '#shared/images/model';
import { ImageConflict } from '#shared/images/repository';
import { retryOnConflict } from '#shared/retry';
import { decideImage, type ImageTrigger, TransitionRefused } from '#shared/status-rules';
import type { UploadKind } from '#shared/storage/bucket';
import type { UploadContext } from './context.ts';

export const startTrigger = (kind: UploadKind): ImageTrigger =>
  kind === 'file' ? 'uploadStart' : 'stageStart';

/** Throws the rules' Glance error (409 wrong status, 400 formats missing) when `trigger` does not apply. */
export const requireTrigger = (image: ImageRecord, trigger: ImageTrigger): void => {
  try {
    decideImage(image, trigger);
  } catch (error) {
    if (error instanceof TransitionRefused) throw error.error;
    throw error;
  }
};

/**
 * 413 when `size` bytes do not fit the size cap (docs/lifecycle.md#size-cap-and-quota): checked
 * before any URL is issued or any status changes. The quotas need no check here: the start
 * transition reserves the declared size itself, and is refused (413) when it does not fit.
 */
export const requireRoomFor = (ctx: UploadContext, size: number): void => {
  if (size > ctx.limits.sizeCap) {
    throw new PayloadTooLarge(
      `Image data of ${size} bytes exceeds the image size cap of ${ctx.limits.sizeCap} bytes.`,
    );
  }
};

/** The loser of a race for the same queued image: the image had already left `queued`. */
export class UploadRaceLost extends Error {
  constructor(
    readonly current: ImageRecord | undefined,
    readonly refusal: Error,
  ) {
    super(refusal.message);
    this.name = 'UploadRaceLost';
  }
}

/**
 * Writes the start transition. A write that lost only to an unrelated edit (the image is still
 * startable) is retried on the fresh record; one that lost to another upload (or a delete) throws
 * `UploadRaceLost`, which `PUT /file` answers with 410 and presign with 409.
 */
export const startUpload = async (
  ctx: UploadContext,
  image: ImageRecord,
  kind: UploadKind,
  options: { actor: string; upload: PendingUpload },
): Promise<ImageRecord> => {
  const trigger = startTrigger(kind);
  try {
    return await retryOnConflict<ImageRecord, ImageConflict>(async (previous) =>
      applyTrigger(ctx.images, previous ? stillStartable(previous, trigger) : image, trigger, {
        actor: options.actor,
        set: { upload: options.upload },
      }),
    );
  } catch (error) {
    // Lost every attempt to unrelated edits: as good as lost to another upload.
    if (error instanceof ImageConflict) throw new UploadRaceLost(error.current, error);
    throw error;
  }
};

/** The fresh record of a lost start, or `UploadRaceLost` when it can no longer be started. */
const stillStartable = (conflict: ImageConflict, trigger: ImageTrigger): ImageRecord => {
  const fresh = conflict.current;
  if (!fresh) throw new UploadRaceLost(fresh, conflict);
  try {
    requireTrigger(fresh, trigger);
  } catch (refusal) {
    throw new UploadRaceLost(fresh, refusal as Error);
  }
  return fresh;
};

/** ISO time `seconds` after `now`. */
export const isoAfter = (now: Date, seconds: number): string =>
  new Date(now.getTime() + seconds * 1000).toISOString();
