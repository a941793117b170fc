/**
 * Step Functions on one machine, for `npm start`, the tests and `npm run sfn`: the execution runner
 * (runner.ts) behind a tiny HTTP server that speaks the Step Functions JSON protocol for the calls
 * we need (StartExecution, DescribeExecution, GetExecutionHistory, ListExecutions, StopExecution,
 * DescribeStateMachine). The functions use the real SDK client, pointed here by
 * `AWS_ENDPOINT_URL_SFN` like dynalite and s3rver stand in for DynamoDB and S3, so the import
 * handler has no local-only code; `npm run sfn` and `aws stepfunctions --endpoint-url` work too.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../listen.ts';
import { seconds } from './history.ts';
import {
  ApiError,
  type ExecutionRunner,
  executionRunner,
  LOCAL_ROLE_ARN,
  LOCAL_STATE_MACHINE_NAME,
  type LocalExecution,
  type RunnerOptions,
} from './runner.ts';

export interface LocalStepFunctionsOptions extends RunnerOptions {
  /** Defaults to 127.0.0.1 and an OS-chosen port. */
  readonly host?: string;
  readonly port?: number;
}

export interface LocalStepFunctions extends Omit<ExecutionRunner, 'stopAll'> {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SFN`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** The JSON protocol's actions, on the runner's executions. */
const actionsOf = (runner: ExecutionRunner) => {
  const { stateMachineArn } = runner;
  const describe = (execution: LocalExecution) => ({
    executionArn: execution.executionArn,
    stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: execution.startDate,
    ...(execution.stopDate === undefined ? {} : { stopDate: execution.stopDate }),
    input: execution.input,
    ...(execution.output === undefined ? {} : { output: execution.output }),
    ...(execution.error === undefined ? {} : { error: execution.error }),
    ...(execution.cause === undefined ? {} : { cause: execution.cause }),
  });
  const required = (body: Record<string, unknown>, field: string): string => {
    const value = body[field];
    if (typeof value !== 'string' || value === '')
      throw new ApiError('ValidationException', `${field} is required`);
    return value;
  };
  const executionOf = (body: Record<string, unknown>) => {
    const execution = runner.execution(required(body, 'executionArn'));
    if (!execution)
      throw new ApiError('ExecutionDoesNotExist', `Execution does not exist: ${String(body.executionArn)}`);
    return execution;
  };
  const checkMachine = (body: Record<string, unknown>) => {
    if (required(body, 'stateMachineArn') !== stateMachineArn) {
      throw new ApiError(
        'StateMachineDoesNotExist',
        `State machine does not exist: ${String(body.stateMachineArn)}`,
      );
    }
  };

  const actions: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    async StartExecution(body) {
      checkMachine(body);
      const execution = await runner.start(
        body.name as string | undefined,
        (body.input as string | undefined) ?? '{}',
      );
      return { executionArn: execution.executionArn, startDate: execution.startDate };
    },
    async DescribeExecution(body) {
      return describe(executionOf(body));
    },
    async GetExecutionHistory(body) {
      const execution = executionOf(body);
      return { events: body.reverseOrder ? [...execution.events].reverse() : execution.events };
    },
    async ListExecutions(body) {
      checkMachine(body);
      return {
        executions: runner
          .executions()
          .filter((execution) => !body.statusFilter || execution.status === body.statusFilter)
          .reverse()
          .map((execution) => {
            const {
              input: _input,
              output: _output,
              error: _error,
              cause: _cause,
              ...summary
            } = describe(execution);
            return summary;
          }),
      };
    },
    async StopExecution(body) {
      const execution = executionOf(body);
      if (execution.status === 'RUNNING') execution.abort(body.error as string, body.cause as string);
      await execution.done;
      return { stopDate: execution.stopDate ?? seconds(Date.now()) };
    },
    async DescribeStateMachine(body) {
      checkMachine(body);
      return {
        stateMachineArn,
        name: LOCAL_STATE_MACHINE_NAME,
        status: 'ACTIVE',
        definition: JSON.stringify(await runner.definition()),
        roleArn: LOCAL_ROLE_ARN,
        type: 'STANDARD',
        creationDate: seconds(Date.now()),
      };
    },
  };
  return actions;
};

export const startLocalStepFunctions = async (
  options: LocalStepFunctionsOptions = {},
): Promise<LocalStepFunctions> => {
  const runner = executionRunner(options);
  const actions = actionsOf(runner);

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.replace(/^AWSStepFunctions\./, '');
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    try {
      const handler = actions[action];
      if (req.method !== 'POST' || !handler)
        throw new ApiError('UnknownOperationException', `Unknown operation ${target}`);
      const text = Buffer.concat(chunks).toString('utf8');
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      res.end(JSON.stringify(await handler(body)));
    } catch (error) {
      const api =
        error instanceof ApiError ? error : new ApiError('InternalFailure', (error as Error).message, 500);
      if (!(error instanceof ApiError)) console.error('local Step Functions failed', error);
      res.statusCode = api.status;
      res.end(JSON.stringify({ __type: api.type, message: api.message }));
    }
  };

  const server = createServer((req, res) => void serve(req, res));
  const listening = await listen(server, options);
  const { stopAll, ...rest } = runner;

  return {
    ...rest,
    endpoint: listening.endpoint,
    async close() {
      await stopAll();
      await listening.close().catch(() => {});
    },
  };
};
