/**
 * The port through which the API starts import workflows. One production adapter: Step
 * Functions `StartExecution` on the state machine named by `STATE_MACHINE_ARN`, with the task id
 * as the execution name and `{"task_id": ...}` as input.
 *
 * Locally nothing changes in this code: `npm start` and the tests point the SDK at an in-process
 * Step Functions endpoint (`AWS_ENDPOINT_URL_SFN`, infra/local/step-functions/) that runs the
 * synthesized definition in aws-local-stepfunctions, the way dynalite and s3rver stand in for
 * DynamoDB and S3. Unit tests inject a fake `Executions`.
 */
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

export interface Executions {
  /**
   * Starts the workflow for a task. Starting the same task twice is harmless: Step Functions
   * answers `ExecutionAlreadyExists` for a reused name, which counts as started.
   */
  start(taskId: string): Promise<void>;
}

/** The execution input: everything else is read from the task record. */
export const executionInput = (taskId: string): string => JSON.stringify({ task_id: taskId });

export const stepFunctionsExecutions = (client: SFNClient, stateMachineArn: string): Executions => ({
  async start(taskId) {
    try {
      await client.send(
        new StartExecutionCommand({ stateMachineArn, name: taskId, input: executionInput(taskId) }),
      );
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return;
      throw error;
    }
  },
});
