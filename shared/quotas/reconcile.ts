/**
 * Resolving reservations left pending by a crash (docs/quotas.md#crashes), run by the sweeper.
 * A reservation's token names the image and the version its write was conditioned on; the image
 * says what became of it:
 *
 * - the image records the token (`held.token`): the write landed, only the settling was lost →
 *   its decreases are applied and the entry removed;
 * - the image is still at that version: the write may still land → the image is fenced (its
 *   version bumped, nothing else changed) so that it cannot, and looked at again;
 * - otherwise the write never landed and never can (its condition names an older version; for a
 *   create, its function ended long ago) → its increases are taken back.
 *
 * A writer that replaces an image's token first makes sure the old one is settled wherever it was
 * pending (its reservation is conditional on it), so "the image records another token" can only
 * mean "this one never landed". Each step is conditional on the entry still pending: two
 * sweepers, or a sweeper and a late writer, resolve a reservation once.
 */
import type { ImageRepository } from '#shared/images/repository';
import { ImageConflict } from '#shared/images/repository';
import { logger } from '#shared/logger';
import { CONFLICT_ATTEMPTS } from '#shared/retry';
import { parseToken } from './change.ts';
import type { PendingReservation } from './ledger.ts';

/**
 * A reservation is left alone until it is this old: twice the longest a function that writes
 * images can run (15 minutes), so its writer is certainly gone.
 */
export const STALE_RESERVATION_SECONDS = 30 * 60;

export interface ReconcileReport {
  /** Tokens whose write had landed (decreases applied, entry removed). */
  readonly settled: string[];
  /** Tokens whose write never landed (increases taken back). */
  readonly released: string[];
}

type Outcome = keyof ReconcileReport;

const resolve = async (
  images: ImageRepository,
  project: string,
  entry: PendingReservation,
): Promise<Outcome> => {
  const { imageId, baseVersion } = parseToken(entry.token);
  for (let attempt = 1; attempt <= CONFLICT_ATTEMPTS; attempt++) {
    const image = await images.get(imageId);
    if (image?.held?.token === entry.token) {
      await images.ledger.settleOn(project, entry.token, entry.delta);
      return 'settled';
    }
    if (image && image.version === baseVersion) {
      try {
        await images.fence(image);
      } catch (error) {
        if (!(error instanceof ImageConflict)) throw error;
      }
      continue;
    }
    await images.ledger.releaseOn(project, entry.token, entry.delta);
    return 'released';
  }
  throw new Error(`Image ${imageId} kept changing while its reservation ${entry.token} was resolved.`);
};

/** Resolves every reservation pending for longer than `staleSeconds`, project by project. */
export const reconcileReservations = async (
  images: ImageRepository,
  now = new Date(),
  staleSeconds = STALE_RESERVATION_SECONDS,
): Promise<ReconcileReport> => {
  const report: ReconcileReport = { settled: [], released: [] };
  const staleBefore = now.getTime() - staleSeconds * 1000;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await images.ledger.dueProjects({ before: new Date(staleBefore), limit: 100, startKey });
    for (const project of page.projects) {
      try {
        const quota = await images.ledger.read(project);
        for (const entry of quota.pending) {
          if (entry.at < staleBefore) report[await resolve(images, project, entry)].push(entry.token);
        }
        await images.ledger.tidyDue(project);
      } catch (error) {
        // One project must not stop the others; the next run tries again.
        logger.error('resolving quota reservations failed', { project, error: error as Error });
      }
    }
    startKey = page.lastKey;
  } while (startKey);
  if (report.settled.length || report.released.length)
    logger.info('quota reservations resolved', { ...report });
  return report;
};
