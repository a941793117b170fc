import type { EventBridgeEvent } from 'aws-lambda';
import { classify } from '#shared/import/errors';
import { type FailureResult, failImport } from '#shared/import/steps';
import { logger, withLambdaContext } from '#shared/logger';
import { importStepDeps } from '#shared/runtime';

export interface ExecutionStatusChange {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: string;
  /** The execution input, as a JSON string. */
  readonly input: string | null;
  readonly error?: string | null;
  readonly cause?: string | null;
}

/**
 * EventBridge "Step Functions Execution Status Change" for FAILED, TIMED_OUT and ABORTED
 * executions of the import workflow: whatever ended the execution (the execution timeout, a
 * StopExecution from the console, a failure branch that failed itself), the task must not stay
 * processing nor the image importing. Runs the failure branch's cleanup, which does nothing
 * when the workflow already finished the task.
 */
export const handler = withLambdaContext(
  async (
    event: EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusChange>,
  ): Promise<FailureResult | undefined> => {
    const { detail } = event;
    let input: { task_id?: unknown } = {};
    try {
      input = JSON.parse(detail.input ?? '{}') as { task_id?: unknown };
    } catch {
      // Not ours to judge: an execution started by hand with a malformed input has no task.
    }
    if (typeof input?.task_id !== 'string') return undefined;
    const why = detail.error ? ` (${detail.error}${detail.cause ? `: ${detail.cause}` : ''})` : '';
    const message = `Import failed: the workflow execution ${detail.name} ended with status ${detail.status}${why}.`;
    try {
      return await failImport(
        importStepDeps(),
        { task_id: input.task_id },
        { message, execution: detail.name },
      );
    } catch (error) {
      const thrown = classify(error);
      logger.error('execution-ended cleanup failed', { taskId: input.task_id, error: thrown });
      throw thrown;
    }
  },
);
