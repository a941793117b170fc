/**
 * Scheduled upload sweeper (decision D2): an EventBridge rule every 5 minutes on AWS, a timer in
 * the local stack (infra/local/uploads.ts). See shared/uploads/sweep.ts.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { dataContext } from '#shared/uploads/data-context';
import { type SweepReport, sweepUploads } from '#shared/uploads/sweep';

export const handler = async (event?: Partial<ScheduledEvent>): Promise<SweepReport> =>
  sweepUploads(
    dataContext,
    event?.time ? new Date(Math.max(Date.parse(event.time), Date.now())) : new Date(),
  );
