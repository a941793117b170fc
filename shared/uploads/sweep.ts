/**
 * The upload sweeper (decision D2): no image stays in `saving` or `uploading` because its data
 * never came. Images whose upload deadline (URL expiry plus grace) passed are found with one Query
 * on the sparse pending-upload index (gsi3), then each is re-read and:
 *
 * - its object exists but was never finalised (the trigger failed or was lost) and is older than
 *   the trigger's own time limit → finalisation is re-driven here, with the same code, when the
 *   object can be hashed in the time this run has left (at a conservative rate); one that this
 *   whole run could not hash either (the trigger, with the same 15 minutes, timed out on it) is
 *   killed through the status rules and deleted instead (D1), so it can neither stay in `saving`
 *   forever nor make every run time out on it before the other expired uploads;
 * - its object exists and is recent → left for the trigger still at work;
 * - no object → `sweep` back to `queued` (size cleared, reason in history), then its multipart
 *   upload, if any, is aborted. The transition comes first: a client that re-signed meanwhile has
 *   changed the image's version, so the conditional write fails and the live upload is kept.
 *
 * A run works within its function's time limit: it picks no new image once less than
 * `SWEEP_RESERVE_MS` remain (the next run, 5 minutes later, goes on where it stopped).
 */

import { DEFAULT_VERIFY_BYTES_PER_SECOND } from '#shared/data/limits';
import type { TimeBudget } from '#shared/data/verify';
import { applyTrigger } from '#shared/images/actions';
import type { ImageRecord, PendingUpload } from '#shared/images/model';
import { ImageConflict } from '#shared/images/repository';
import { logger } from '#shared/logger';
import { SWEEPER_ACTOR, type UploadContext } from './context.ts';
import { allows, finaliseUpload, rejectTrigger, UNVERIFIED } from './finalise.ts';

export interface SweepReport {
  /** Back to queued. */
  readonly swept: string[];
  /** Object found and finalised by the sweeper. */
  readonly finalised: string[];
  /** Object found but too large to verify within a run: killed, object deleted. */
  readonly killed: string[];
  /** Looked at and left alone (changed meanwhile, the trigger may still be running, or no time left). */
  readonly skipped: string[];
  /** The run stopped picking images because its time ran out (the rest wait for the next run). */
  stopped: boolean;
}

type Outcome = 'swept' | 'finalised' | 'killed' | 'skipped';

/** The time a run has, from its Lambda context; without one (a test calling it directly) it is unlimited. */
export interface SweepBudget {
  /** Milliseconds left in this run (`context.getRemainingTimeInMillis`). */
  readonly remainingMs?: () => number;
  /**
   * Re-finalisation rate assumed when deciding whether an object can be hashed in time: the
   * verification rate the size cap follows from (`VERIFY_BYTES_PER_SECOND`).
   */
  readonly bytesPerSecond?: number;
}

/** No new image is picked with less than this left: enough to finish a sweep or a kill. */
export const SWEEP_RESERVE_MS = 60_000;

const PAGE = 100;

export const sweepUploads = async (
  ctx: UploadContext,
  now = new Date(),
  budget: SweepBudget = {},
): Promise<SweepReport> => {
  const report: SweepReport = { swept: [], finalised: [], killed: [], skipped: [], stopped: false };
  const remaining = budget.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  const rate = budget.bytesPerSecond ?? DEFAULT_VERIFY_BYTES_PER_SECOND;
  /** Bytes that can be hashed in `ms` milliseconds, keeping the reserve. */
  const hashable = (ms: number) => (Math.max(0, ms - SWEEP_RESERVE_MS) / 1000) * rate;
  const limits: HashLimits = {
    run: hashable(remaining()),
    now: () => hashable(remaining()),
    budget: { remainingMs: remaining },
  };
  let startKey: Record<string, unknown> | undefined;
  pages: do {
    const page = await ctx.images.expiredUploads({ before: now.toISOString(), limit: PAGE, startKey });
    for (const id of page.ids) {
      if (remaining() < SWEEP_RESERVE_MS) {
        report.stopped = true;
        break pages;
      }
      try {
        report[await sweepOne(ctx, id, now, limits)].push(id);
      } catch (error) {
        // One bad image must not stop the others; the next run tries again.
        logger.error('sweeping an upload failed', { imageId: id, error: error as Error });
        report.skipped.push(id);
      }
    }
    startKey = page.lastKey;
  } while (startKey);
  if (report.swept.length || report.finalised.length || report.killed.length || report.stopped) {
    logger.info('uploads swept', { ...report });
  }
  return report;
};

/** How many bytes this run could hash in all, and can hash in the time left now; the run's time. */
interface HashLimits {
  readonly run: number;
  readonly now: () => number;
  readonly budget: TimeBudget;
}

const sweepOne = async (ctx: UploadContext, id: string, now: Date, limits: HashLimits): Promise<Outcome> => {
  const image = await ctx.images.get(id);
  const upload = image?.upload;
  if (!image || !upload || upload.deadline >= now.toISOString() || !allows(image, 'sweep')) return 'skipped';

  const object = await ctx.store.head(upload.key);
  if (object) {
    if (now.getTime() - object.lastModified.getTime() < ctx.settings.refinaliseAfterSeconds * 1000) {
      return 'skipped';
    }
    // Never re-finalise inline what would not be hashed in time: the run would time out on it.
    if (object.size > limits.run) return killUnverifiable(ctx, image, upload, object.size);
    if (object.size > limits.now()) return 'skipped';
    // Slower than assumed, the verification stops before the run's time is up and the image is killed.
    await finaliseUpload(ctx, { key: upload.key }, { actor: SWEEPER_ACTOR, budget: limits.budget });
    return 'finalised';
  }
  try {
    await applyTrigger(ctx.images, image, 'sweep', {
      actor: SWEEPER_ACTOR,
      reason: `Upload ${upload.key.split('/').at(-1)} expired: no data arrived by its deadline ${upload.deadline}.`,
      set: { upload: null },
    });
  } catch (error) {
    if (error instanceof ImageConflict) return 'skipped';
    throw error;
  }
  if (upload.multipart_upload_id) await ctx.store.abortMultipart(upload.key, upload.multipart_upload_id);
  return 'swept';
};

/** saving/uploading → killed (D1) with the reason, then the object is deleted (D2). */
const killUnverifiable = async (
  ctx: UploadContext,
  image: ImageRecord,
  upload: PendingUpload,
  size: number,
): Promise<Outcome> => {
  const reason = `${UNVERIFIED}: ${size} bytes.`;
  try {
    await applyTrigger(ctx.images, image, rejectTrigger(upload.kind), {
      actor: SWEEPER_ACTOR,
      reason,
    });
  } catch (error) {
    if (error instanceof ImageConflict) return 'skipped';
    throw error;
  }
  await ctx.store.delete([upload.key]);
  logger.warn('upload killed: too large to verify', { imageId: image.id, key: upload.key, size });
  return 'killed';
};
