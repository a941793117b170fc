/**
 * The scrubber (T20): with delayed delete on, a deleted active image waits in `pending_delete`
 * with its data; once `SCRUB_TIME_SECONDS` have passed, the scrubber removes the data and moves
 * it to `deleted`. Found with one Query on the `SCRUB` partition of the gsi3 "due" index. Runs
 * with the upload sweeper, so nothing stays `pending_delete` for ever either.
 */
import { applyTrigger } from '#shared/images/actions';
import { ImageConflict } from '#shared/images/repository';
import { logger } from '#shared/logger';
import { isPendingDelete } from '#shared/status-rules';
import type { UploadContext } from './context.ts';

export const SCRUBBER_ACTOR = 'system:scrubber';

/** Scrubs every image deleted more than `scrubTimeSeconds` before `now`; returns their ids. */
export const scrubImages = async (
  ctx: UploadContext,
  scrubTimeSeconds: number,
  now = new Date(),
): Promise<string[]> => {
  const before = new Date(now.getTime() - scrubTimeSeconds * 1000).toISOString();
  const scrubbed: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ctx.images.pendingScrubs({ before, limit: 100, startKey });
    for (const id of page.ids) {
      try {
        const image = await ctx.images.get(id);
        if (!image || !isPendingDelete(image.status)) continue;
        // The data first: a removal that fails leaves the image pending_delete, in the due index,
        // for the next run; after the transition nothing would ever name its objects again.
        await ctx.store.deleteImageObjects(image);
        await applyTrigger(ctx.images, image, 'scrub', {
          actor: SCRUBBER_ACTOR,
          reason: 'Delayed delete: scrubbed.',
        });
        scrubbed.push(id);
      } catch (error) {
        // A lost race (restored meanwhile) or one failing image must not stop the others.
        if (!(error instanceof ImageConflict))
          logger.error('scrubbing an image failed', { imageId: id, error: error as Error });
      }
    }
    startKey = page.lastKey;
  } while (startKey);
  if (scrubbed.length) logger.info('images scrubbed', { scrubbed });
  return scrubbed;
};
