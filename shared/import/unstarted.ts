/**
 * The sweep of import tasks whose execution never started
 * (docs/import-workflow.md#imports-that-never-started): found with one Query on the sparse
 * pending-task index, failed through the failure branch's own cleanup (`failImport`).
 */
import { logger } from '#shared/logger';
import { isTaskPending } from '#shared/status-rules';
import { UNSTARTED_TASK_SECONDS } from './state-machine.ts';
import { type FailureDeps, failImport } from './steps.ts';

const PAGE = 100;

/** The message of a task failed because its execution never started. */
export const unstartedMessage = (createdAt: string): string =>
  `Import failed: its workflow execution never started (the task was pending from ${createdAt} for more than ${UNSTARTED_TASK_SECONDS / 60} minutes); import again.`;

/**
 * Fails every task pending for longer than `UNSTARTED_TASK_SECONDS` at `now`; returns their ids.
 * `hasTime` is asked before each task, so a run stops within its function's time limit.
 */
export const failUnstartedTasks = async (
  deps: FailureDeps,
  now = new Date(),
  hasTime: () => boolean = () => true,
): Promise<string[]> => {
  const before = new Date(now.getTime() - UNSTARTED_TASK_SECONDS * 1000).toISOString();
  const failed: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.tasks.pendingSince({ before, limit: PAGE, startKey });
    for (const id of page.ids) {
      if (!hasTime()) return failed;
      try {
        const task = await deps.tasks.get(id);
        if (!task || !isTaskPending(task.status) || task.created_at >= before) continue;
        const result = await failImport(
          { ...deps, now: () => now },
          { task_id: id },
          { message: unstartedMessage(task.created_at) },
        );
        if (result.task_status === 'failure') failed.push(id);
      } catch (error) {
        // One bad task must not stop the others; the next run tries again.
        logger.error('failing an unstarted import task failed', { taskId: id, error: error as Error });
      }
    }
    startKey = page.lastKey;
  } while (startKey);
  if (failed.length > 0) logger.warn('import tasks failed: their execution never started', { failed });
  return failed;
};
