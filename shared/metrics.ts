/**
 * The service's metrics (docs/operations.md#metrics), as CloudWatch embedded metric format lines
 * written by Powertools: CloudWatch turns them into metrics without an API call, so recording one
 * costs a log line, never a request on the way. Namespace from `POWERTOOLS_METRICS_NAMESPACE`
 * (the `metricsNamespace` setting); the local stack turns them off unless a test asks for them.
 *
 * Each metric is written at once, with its own dimensions (one invocation may make transitions
 * of different triggers), so nothing waits for a flush at the end of the invocation.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Transition } from '#shared/events';
import { isActive, isDeactivated, isKilled } from '#shared/status-rules';

export const SERVICE_NAME = 'serverless-glance';

/** Metric names, shared with the dashboard and the alarms (infra/constructs/dashboard.ts). */
export const METRIC = {
  /** An image transition was written (creation included): dimensions `trigger` and `status` (the new one). */
  imageTransition: 'ImageTransition',
  /** A task transition was written: dimensions `trigger` and `status`. */
  taskTransition: 'TaskTransition',
  /** An image was killed: dimension `reason` (the data failure, or the trigger). */
  imageKilledByReason: 'ImageKilledByReason',
  /** An image was killed, any reason (no extra dimension, for the alarm). */
  imageKilled: 'ImageKilled',
  /** An image's data was accepted: active from saving, importing... (the killed rate's denominator). */
  imageActivated: 'ImageActivated',
  /** Time the finaliser took for one object, and its size. */
  finaliseDuration: 'FinaliseDuration',
  finaliseBytes: 'FinaliseBytes',
  /** Time from task creation to a successful import, and the image's size. */
  importDuration: 'ImportDuration',
  importBytes: 'ImportBytes',
  /** Uploads or imports past their deadline after a sweep: must be 0. */
  overdueImages: 'OverdueImages',
} as const;

/** One Metrics object per container; each metric is emitted on its own (`singleMetric`). */
const metrics = new Metrics({ serviceName: SERVICE_NAME });

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

const emit = (name: string, unit: Unit, value: number, dimensions: Record<string, string> = {}) => {
  const single = metrics.singleMetric();
  if (Object.keys(dimensions).length) single.addDimensions(dimensions);
  single.addMetric(name, unit, value);
};

/**
 * A transition the table's stream shows was written (functions/events/publish-transitions.ts):
 * exactly what was committed, whichever function wrote it, counted once its events are published.
 */
export const recordTransition = (transition: Transition): void => {
  if (transition.kind === 'task') {
    emit(METRIC.taskTransition, MetricUnit.Count, 1, { trigger: transition.trigger, status: transition.to });
    return;
  }
  const { entry } = transition;
  emit(METRIC.imageTransition, MetricUnit.Count, 1, { trigger: entry.trigger, status: entry.to });
  if (isKilled(entry.to)) {
    emit(METRIC.imageKilledByReason, MetricUnit.Count, 1, { reason: entry.failure ?? entry.trigger });
    emit(METRIC.imageKilled, MetricUnit.Count, 1);
  }
  // Data verdicts only: reactivating a deactivated image is not one.
  if (isActive(entry.to) && entry.from !== null && !isDeactivated(entry.from)) {
    emit(METRIC.imageActivated, MetricUnit.Count, 1);
  }
};

/** The finaliser's time and bytes for one object, by outcome (`activated`, `killed`...). */
export const recordFinalise = (outcome: string, milliseconds: number, bytes: number): void => {
  emit(METRIC.finaliseDuration, MetricUnit.Milliseconds, milliseconds, { outcome });
  emit(METRIC.finaliseBytes, MetricUnit.Bytes, bytes, { outcome });
};

/** A successful import's time from the task's creation, and its image's bytes, by method. */
export const recordImport = (method: string, milliseconds: number, bytes: number): void => {
  emit(METRIC.importDuration, MetricUnit.Milliseconds, milliseconds, { method });
  emit(METRIC.importBytes, MetricUnit.Bytes, bytes, { method });
};

/** After each sweep: images still waiting past their deadline, by what they wait for. */
export const recordOverdue = (counts: { uploads: number; imports: number }): void => {
  emit(METRIC.overdueImages, MetricUnit.Count, counts.uploads, { waitingFor: 'upload' });
  emit(METRIC.overdueImages, MetricUnit.Count, counts.imports, { waitingFor: 'import' });
  emit(METRIC.overdueImages, MetricUnit.Count, counts.uploads + counts.imports);
};
