/**
 * The "no image is stuck" check (decision D2, docs/operations.md#alarms), made after every sweep:
 * how many images still wait past their deadline, which a healthy service never lets happen.
 *
 * - An upload is overdue once its deadline passed more than `OVERDUE_UPLOAD_MS` ago: by then the
 *   sweeper has had several runs to move it back to queued or to finalise its object (the trigger's
 *   15 minutes and `SWEEP_REFINALISE_AFTER_SECONDS` included).
 * - An import is overdue once its task is still pending or processing more than
 *   `OVERDUE_IMPORT_MS` after it was created: longer than the execution timeout, after which the
 *   execution-ended cleanup fails it.
 *
 * Both counts are read from indexes (the pending-upload index, the tasks partition), never a Scan.
 */
import type { ImageRepository } from '#shared/images/repository';
import { EXECUTION_TIMEOUT_SECONDS } from '#shared/import/state-machine';
import { isTaskPending, isTaskProcessing } from '#shared/status-rules';
import type { TaskRepository } from '#shared/tasks/repository';

const HOUR_MS = 3600_000;
export const OVERDUE_UPLOAD_MS = HOUR_MS;
export const OVERDUE_IMPORT_MS = EXECUTION_TIMEOUT_SECONDS * 1000 + HOUR_MS;
/** Counting stops here: the alarm only needs "more than zero", the dashboard a rough size. */
export const OVERDUE_COUNT_LIMIT = 1000;

export interface OverdueCounts {
  readonly uploads: number;
  readonly imports: number;
}

export const countOverdue = async (
  repositories: { readonly images: ImageRepository; readonly tasks: TaskRepository },
  now = new Date(),
): Promise<OverdueCounts> => {
  let uploads = 0;
  let startKey: Record<string, unknown> | undefined;
  const before = new Date(now.getTime() - OVERDUE_UPLOAD_MS).toISOString();
  do {
    const page = await repositories.images.expiredUploads({ before, limit: 100, startKey });
    uploads += page.ids.length;
    startKey = page.lastKey;
  } while (startKey && uploads < OVERDUE_COUNT_LIMIT);

  let imports = 0;
  let read = 0;
  startKey = undefined;
  const createdBefore = new Date(now.getTime() - OVERDUE_IMPORT_MS).toISOString();
  do {
    const page = await repositories.tasks.queryAll({
      descending: true,
      after: createdBefore,
      limit: 100,
      startKey,
    });
    imports += page.tasks.filter(
      (task) => isTaskPending(task.status) || isTaskProcessing(task.status),
    ).length;
    read += page.tasks.length;
    startKey = page.lastKey;
  } while (startKey && read < 10 * OVERDUE_COUNT_LIMIT && imports < OVERDUE_COUNT_LIMIT);
  return { uploads, imports };
};
