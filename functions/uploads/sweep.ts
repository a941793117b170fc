/**
 * Scheduled janitor, an EventBridge rule every 5 minutes on AWS, a timer in the local stack
 * (infra/local/upload-events.ts): the upload sweeper (decision D2, shared/uploads/sweep.ts), then
 * the import tasks whose execution never started (shared/import/unstarted.ts), the scrubber of
 * delayed deletes (T20, shared/uploads/scrub.ts), then the quota reservations a crash left pending
 * (shared/quotas/reconcile.ts). The run's time limit comes from the Lambda context; without one
 * (a test calling it directly) it is unlimited.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { failUnstartedTasks } from '#shared/import/unstarted';
import { type ReconcileReport, reconcileReservations } from '#shared/quotas/reconcile';
import { importFailureDeps, serviceConfig, uploadContext } from '#shared/runtime';
import { scrubImages } from '#shared/uploads/scrub';
import { SWEEP_RESERVE_MS, type SweepReport, sweepUploads } from '#shared/uploads/sweep';

export const handler = async (
  event?: Partial<ScheduledEvent>,
  context?: Context,
): Promise<
  SweepReport & { unstarted: string[]; scrubbed: string[]; reservations: ReconcileReport | null }
> => {
  const now = event?.time ? new Date(Math.max(Date.parse(event.time), Date.now())) : new Date();
  const ctx = uploadContext();
  const report = await sweepUploads(
    ctx,
    now,
    context
      ? {
          remainingMs: () => context.getRemainingTimeInMillis(),
          bytesPerSecond: serviceConfig().verifyBytesPerSecond,
        }
      : { bytesPerSecond: serviceConfig().verifyBytesPerSecond },
  );
  if (report.stopped) return { ...report, unstarted: [], scrubbed: [], reservations: null };
  const hasTime = () => !context || context.getRemainingTimeInMillis() >= SWEEP_RESERVE_MS;
  const unstarted = await failUnstartedTasks(importFailureDeps(), now, hasTime);
  const scrubbed = hasTime() ? await scrubImages(ctx, serviceConfig().scrubTimeSeconds, now) : [];
  const reservations = hasTime() ? await reconcileReservations(ctx.images, now) : null;
  return { ...report, unstarted, scrubbed, reservations };
};
