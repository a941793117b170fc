/**
 * Scheduled janitor, an EventBridge rule every 5 minutes on AWS, a timer in the local stack
 * (infra/local/upload-events.ts): the upload sweeper (decision D2, shared/uploads/sweep.ts), then
 * the import tasks whose execution never started (shared/import/unstarted.ts), the scrubber of
 * delayed deletes (T20, shared/uploads/scrub.ts), the quota reservations a crash left pending
 * (shared/quotas/reconcile.ts), then the count of images still waiting past their deadline
 * (shared/uploads/overdue.ts), published as the `OverdueImages` metric the "stuck images" alarm
 * watches. The run's time limit comes from the Lambda context; without one (a test calling it
 * directly) it is unlimited.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { failUnstartedTasks } from '#shared/import/unstarted';
import { withLambdaContext } from '#shared/logger';
import { recordOverdue } from '#shared/metrics';
import { type ReconcileReport, reconcileReservations } from '#shared/quotas/reconcile';
import { importFailureDeps, serviceConfig, tasks, uploadContext } from '#shared/runtime';
import { countOverdue, type OverdueCounts } from '#shared/uploads/overdue';
import { scrubImages } from '#shared/uploads/scrub';
import { SWEEP_RESERVE_MS, type SweepReport, sweepUploads } from '#shared/uploads/sweep';

export const handler = withLambdaContext(
  async (
    event?: Partial<ScheduledEvent>,
    context?: Context,
  ): Promise<
    SweepReport & {
      unstarted: string[];
      scrubbed: string[];
      reservations: ReconcileReport | null;
      overdue: OverdueCounts;
    }
  > => {
    const now = event?.time ? new Date(Math.max(Date.parse(event.time), Date.now())) : new Date();
    const ctx = uploadContext();
    const { verifyBytesPerSecond, scrubTimeSeconds } = serviceConfig();
    const report = await sweepUploads(
      ctx,
      now,
      context
        ? { remainingMs: () => context.getRemainingTimeInMillis(), bytesPerSecond: verifyBytesPerSecond }
        : { bytesPerSecond: verifyBytesPerSecond },
    );
    const hasTime = () => !context || context.getRemainingTimeInMillis() >= SWEEP_RESERVE_MS;
    const unstarted = report.stopped ? [] : await failUnstartedTasks(importFailureDeps(), now, hasTime);
    const scrubbed = !report.stopped && hasTime() ? await scrubImages(ctx, scrubTimeSeconds, now) : [];
    const reservations = !report.stopped && hasTime() ? await reconcileReservations(ctx.images, now) : null;
    const overdue = await countOverdue({ images: ctx.images, tasks: tasks() }, now);
    recordOverdue(overdue);
    return { ...report, unstarted, scrubbed, reservations, overdue };
  },
);
