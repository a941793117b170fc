/**
 * The upload sweeper (decision D2): no image stays in `saving` or `uploading` because its data
 * never came. Images whose upload deadline (URL expiry plus grace) passed are found with one Query
 * on the sparse pending-upload index (gsi3), then each is re-read and:
 *
 * - its object exists but was never finalised (the trigger failed or was lost) and is older than
 *   the trigger's own time limit → finalisation is re-driven here, with the same code;
 * - its object exists and is recent → left for the trigger still at work;
 * - no object → `sweep` back to `queued` (size cleared, reason in history), then its multipart
 *   upload, if any, is aborted. The transition comes first: a client that re-signed meanwhile has
 *   changed the image's version, so the conditional write fails and the live upload is kept.
 */
import { applyTrigger } from '../images/actions.ts';
import { ImageConflict } from '../images/repository.ts';
import { logger } from '../logger.ts';
import { type DataContext, SWEEPER_ACTOR } from './context.ts';
import { allows, finaliseUpload } from './finalise.ts';
import { abortMultipart, headObject } from './objects.ts';

export interface SweepReport {
  /** Back to queued. */
  readonly swept: string[];
  /** Object found and finalised by the sweeper. */
  readonly finalised: string[];
  /** Looked at and left alone (changed meanwhile, or the trigger may still be running). */
  readonly skipped: string[];
}

const PAGE = 100;

export const sweepUploads = async (ctx: DataContext, now = new Date()): Promise<SweepReport> => {
  const report: SweepReport = { swept: [], finalised: [], skipped: [] };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ctx.images.expiredUploads({ before: now.toISOString(), limit: PAGE, startKey });
    for (const id of page.ids) {
      try {
        report[await sweepOne(ctx, id, now)].push(id);
      } catch (error) {
        // One bad image must not stop the others; the next run tries again.
        logger.error('sweeping an upload failed', { imageId: id, error: error as Error });
        report.skipped.push(id);
      }
    }
    startKey = page.lastKey;
  } while (startKey);
  if (report.swept.length || report.finalised.length) logger.info('uploads swept', { ...report });
  return report;
};

const sweepOne = async (ctx: DataContext, id: string, now: Date): Promise<keyof SweepReport> => {
  const image = await ctx.images.get(id);
  const upload = image?.upload;
  if (!image || !upload || upload.deadline >= now.toISOString() || !allows(image, 'sweep')) return 'skipped';

  const object = await headObject(ctx, upload.key);
  if (object) {
    if (now.getTime() - object.lastModified.getTime() < ctx.settings.refinaliseAfterSeconds * 1000) {
      return 'skipped';
    }
    await finaliseUpload(ctx, { key: upload.key }, { actor: SWEEPER_ACTOR });
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
  if (upload.multipart_upload_id) await abortMultipart(ctx, upload.key, upload.multipart_upload_id);
  return 'swept';
};
