/**
 * Step Functions on one machine, for `npm start`, the tests and `npm run sfn`.
 *
 * 1. The definition is THE one `cdk synth` produces: a small stack holding only the ImportWorkflow
 *    construct is synthesized in-process with bundling skipped, the state machine's
 *    `DefinitionString` is read from the template, and its tokens are resolved, each Lambda ARN
 *    to a placeholder `arn:aws:lambda:us-east-1:000000000000:function:<StateName>`.
 * 2. aws-local-stepfunctions runs it, every Lambda task state mapped by name to its handler
 *    (`overrides.taskResourceLocalHandlers`); input and output go through JSON like a Lambda
 *    invocation, and a thrown error's `name` is the error type that Retry and Catch match.
 * 3. A tiny HTTP server speaks the Step Functions JSON protocol for the calls we need
 *    (StartExecution, DescribeExecution, GetExecutionHistory, ListExecutions, StopExecution,
 *    DescribeStateMachine). The functions use the real SDK client, pointed here by
 *    `AWS_ENDPOINT_URL_SFN` like dynalite and s3rver stand in for DynamoDB and S3, so the import
 *    handler has no local-only code; `npm run sfn` and `aws stepfunctions --endpoint-url` work too.
 * 4. When an execution ends FAILED, TIMED_OUT or ABORTED, `onExecutionEnded` gets the
 *    EventBridge "Execution Status Change" detail, as the rule delivers it on AWS.
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { ImportWorkflow } from '#infra/constructs/import';
import { EXECUTION_ENDED_ENTRY, FAILURE_STEP, STEPS } from '#shared/import/state-machine';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const LOCAL_ACCOUNT = '000000000000';
const REGION = 'us-east-1';
export const LOCAL_STATE_MACHINE_NAME = 'ImportWorkflow';

export const placeholderFunctionArn = (stateName: string, region = REGION): string =>
  `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${stateName}`;

// ---------------------------------------------------------------------------------------------
// 1. The synthesized definition

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

/**
 * The state machine definition of a synthesized template, with the workflow's function ARNs
 * replaced by placeholders named after their states and pseudo parameters by local values.
 */
export const definitionFromTemplate = (
  template: Template,
  functionIds: ReadonlyMap<string, string>,
  region = REGION,
): StateMachineDefinition => {
  const machines = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  if (machines.length !== 1)
    throw new Error(`expected one state machine in the template, found ${machines.length}`);
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': region,
    'AWS::AccountId': LOCAL_ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const resolveToken = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const token = value as Record<string, unknown>;
    if (Array.isArray(token?.['Fn::Join'])) {
      const [separator, parts] = token['Fn::Join'] as [string, unknown[]];
      return parts.map(resolveToken).join(separator);
    }
    if (Array.isArray(token?.['Fn::GetAtt'])) {
      const [id, attribute] = token['Fn::GetAtt'] as [string, string];
      const state = functionIds.get(id);
      if (state && attribute === 'Arn') return placeholderFunctionArn(state, region);
    }
    if (typeof token?.Ref === 'string' && pseudo[token.Ref]) return pseudo[token.Ref] as string;
    throw new Error(`cannot resolve ${JSON.stringify(value)} in the state machine definition`);
  };
  return JSON.parse(resolveToken(machines[0]?.Properties.DefinitionString)) as StateMachineDefinition;
};

/** Logical id of each workflow function → its state name. */
export const importFunctionIds = (stack: Stack, workflow: ImportWorkflow): Map<string, string> =>
  new Map(
    [...workflow.functions].map(([name, fn]) => [
      stack.getLogicalId(fn.node.defaultChild as CfnElement),
      name,
    ]),
  );

/**
 * Synthesizes a stack with only the ImportWorkflow construct (imported table and bucket, no bundling)
 * and returns its definition. aws-cdk-lib loads on first use only.
 */
export const synthesizeImportDefinition = async (region = REGION): Promise<StateMachineDefinition> => {
  const [{ App, Stack }, { Table }, { Bucket }, { ImportWorkflow }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/aws-dynamodb'),
    import('aws-cdk-lib/aws-s3'),
    import('#infra/constructs/import'),
  ]);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'LocalImportWorkflow', { env: { account: LOCAL_ACCOUNT, region } });
  const workflow = new ImportWorkflow(stack, 'Workflow', {
    table: Table.fromTableName(stack, 'Table', 'glance'),
    bucket: Bucket.fromBucketName(stack, 'Bucket', 'glance-images'),
  });
  const template = app.synth().getStackArtifact(stack.artifactId).template as Template;
  return definitionFromTemplate(template, importFunctionIds(stack, workflow), region);
};

/** Handler entry of every Lambda state, by state name. */
export const STATE_ENTRIES: Readonly<Record<string, string>> = Object.fromEntries(
  [...STEPS, FAILURE_STEP].map((step) => [step.name, step.entry]),
);

// ---------------------------------------------------------------------------------------------
// 2-4. Executions behind a Step Functions endpoint

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A history event in the shape GetExecutionHistory returns (timestamps in epoch seconds). */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: number;
  readonly type: string;
  readonly [details: string]: unknown;
}

export interface LocalExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly input: string;
  status: ExecutionStatus;
  readonly startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  readonly events: HistoryEvent[];
  /** Settles once the execution and its execution-ended cleanup are over. */
  readonly done: Promise<void>;
  abort(error?: string, cause?: string): void;
}

/** What the EventBridge rule delivers as `detail` (see functions/import/execution-ended.ts). */
export interface ExecutionStatusChangeDetail {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly input: string;
  readonly error: string | null;
  readonly cause: string | null;
  readonly startDate: number;
  readonly stopDate: number;
}

export interface LocalStepFunctionsOptions {
  /** Defaults to 127.0.0.1 and an OS-chosen port. */
  readonly host?: string;
  readonly port?: number;
  /** Handler entries are relative to this directory; defaults to the repository root. */
  readonly root?: string;
  /** Called for FAILED, TIMED_OUT and ABORTED executions (the EventBridge rule on AWS). */
  readonly onExecutionEnded?: (detail: ExecutionStatusChangeDetail) => Promise<unknown>;
  /** Overrides every retry wait (ms); tests use a few ms instead of the definition's seconds. */
  readonly retryIntervalMs?: number;
  /** Defaults to the synthesized import workflow. */
  readonly definition?: () => Promise<StateMachineDefinition>;
  /** Handler entries by state name; defaults to the import workflow's. */
  readonly entries?: Readonly<Record<string, string>>;
}

export interface LocalStepFunctions {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SFN`. */
  readonly endpoint: string;
  readonly stateMachineArn: string;
  /** Changes the retry wait override for executions started from now on. */
  configure(options: { retryIntervalMs?: number }): void;
  /** Starts an execution, as StartExecution does. */
  start(name: string | undefined, input: string): Promise<LocalExecution>;
  execution(nameOrArn: string): LocalExecution | undefined;
  executions(): LocalExecution[];
  /** Resolves when the named execution (which may not have started yet) is over. */
  waitFor(name: string, timeoutMs?: number): Promise<LocalExecution>;
  /** Resolves when no execution is running. */
  idle(): Promise<void>;
  /** The definition being run (synthesized on first use). */
  definition(): Promise<StateMachineDefinition>;
  close(): Promise<void>;
}

/** An error the Step Functions API answers with (its `__type`). */
class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const seconds = (ms: number) => ms / 1000;

const stringify = (value: unknown): string => {
  if (value === undefined) return 'null';
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  return JSON.stringify(value);
};

/** One local Lambda invocation: JSON in, JSON out, like the service. */
const invoker = (root: string, entry: string, stateName: string) => {
  let loaded: Promise<(event: unknown, context: unknown) => unknown> | undefined;
  return async (input: unknown) => {
    loaded ??= import(/* @vite-ignore */ pathToFileURL(resolve(root, entry)).href).then((module) => {
      if (typeof module.handler !== 'function') throw new Error(`${entry} does not export a handler`);
      return module.handler;
    });
    const handler = await loaded;
    const started = Date.now();
    const context = {
      functionName: stateName,
      functionVersion: '$LATEST',
      invokedFunctionArn: placeholderFunctionArn(stateName),
      awsRequestId: randomUUID(),
      getRemainingTimeInMillis: () => Math.max(0, 900_000 - (Date.now() - started)),
    };
    const output = await handler(JSON.parse(JSON.stringify(input ?? null)), context);
    return JSON.parse(JSON.stringify(output ?? null));
  };
};

export const startLocalStepFunctions = async (
  options: LocalStepFunctionsOptions = {},
): Promise<LocalStepFunctions> => {
  const root = options.root ?? REPO_ROOT;
  const entries = options.entries ?? STATE_ENTRIES;
  const stateMachineArn = `arn:aws:states:${REGION}:${LOCAL_ACCOUNT}:stateMachine:${LOCAL_STATE_MACHINE_NAME}`;
  const executionArn = (name: string) =>
    `arn:aws:states:${REGION}:${LOCAL_ACCOUNT}:execution:${LOCAL_STATE_MACHINE_NAME}:${name}`;
  let retryIntervalMs = options.retryIntervalMs;
  let definition: Promise<StateMachineDefinition> | undefined;
  const loadDefinition = () => {
    definition ??= (options.definition ?? synthesizeImportDefinition)();
    definition.catch(() => {
      definition = undefined;
    });
    return definition;
  };
  const handlers = Object.fromEntries(
    Object.entries(entries).map(([state, entry]) => [state, invoker(root, entry, state)]),
  );
  const executions = new Map<string, LocalExecution>();
  const waiters = new Map<string, ((execution: LocalExecution) => void)[]>();

  const start = async (requestedName: string | undefined, input: string): Promise<LocalExecution> => {
    const name = requestedName || randomUUID();
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name))
      throw new ApiError('InvalidName', `Invalid execution name: ${name}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new ApiError('InvalidExecutionInput', 'The execution input is not valid JSON.');
    }
    const existing = executions.get(name);
    if (existing) {
      // Step Functions: same name and input while running is idempotent; anything else is refused.
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new ApiError('ExecutionAlreadyExists', `Execution already exists: '${existing.executionArn}'`);
    }
    const { StateMachine } = await import('aws-local-stepfunctions');
    const machine = new StateMachine(structuredClone(await loadDefinition()));
    const wait = retryIntervalMs;
    // The function's own result, for LambdaFunctionSucceeded (TaskStateExited has the merged state).
    const results = new Map<string, unknown>();
    const executionHandlers = Object.fromEntries(
      Object.entries(handlers).map(([state, invoke]) => [
        state,
        async (payload: unknown) => {
          const result = await invoke(payload);
          results.set(state, result);
          return result;
        },
      ]),
    );
    const run = machine.run(parsed as never, {
      overrides: {
        taskResourceLocalHandlers: executionHandlers as never,
        ...(wait === undefined
          ? {}
          : {
              retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((state) => [state, wait])),
            }),
      },
      context: {
        Execution: {
          Id: executionArn(name),
          Name: name,
          RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local`,
        },
      },
    });
    const events: HistoryEvent[] = [];
    const push = (type: string, timestamp: number, details: Record<string, unknown> = {}) =>
      events.push({
        id: events.length + 1,
        previousEventId: events.length,
        timestamp: seconds(timestamp),
        type,
        ...details,
      });
    let stopReason: { error?: string; cause?: string } = {};
    const execution: LocalExecution = {
      executionArn: executionArn(name),
      name,
      input,
      status: 'RUNNING',
      startDate: seconds(Date.now()),
      events,
      done: Promise.resolve(),
      abort(error, cause) {
        stopReason = { error, cause };
        run.abort();
      },
    };
    const record = async () => {
      // A Task state whose last attempt failed exits through its Catch: no LambdaFunctionSucceeded.
      let attemptFailed = false;
      for await (const event of run.eventLogs) {
        const type = event.type;
        if (type === 'ExecutionStarted') {
          push('ExecutionStarted', event.timestamp, {
            executionStartedEventDetails: {
              input: stringify(event.input),
              roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local`,
            },
          });
        } else if (type === 'StateEntered') {
          attemptFailed = false;
          push(`${event.state.type}StateEntered`, event.timestamp, {
            stateEnteredEventDetails: { name: event.state.name, input: stringify(event.state.input) },
          });
          if (event.state.type === 'Task') {
            push('LambdaFunctionScheduled', event.timestamp, {
              lambdaFunctionScheduledEventDetails: {
                resource: placeholderFunctionArn(event.state.name),
                input: stringify(event.state.input),
              },
            });
          }
        } else if (type === 'StateRetried') {
          attemptFailed = false;
          push('LambdaFunctionScheduled', event.timestamp, {
            lambdaFunctionScheduledEventDetails: {
              resource: placeholderFunctionArn(event.state.name),
              input: stringify(event.state.input),
            },
          });
        } else if (type === 'StateFailed' && event.state.type === 'Task') {
          attemptFailed = true;
          push('LambdaFunctionFailed', event.timestamp, {
            lambdaFunctionFailedEventDetails: { error: event.Error, cause: stringify(event.Cause) },
          });
        } else if (type === 'StateExited') {
          if (event.state.type === 'Task' && !attemptFailed) {
            push('LambdaFunctionSucceeded', event.timestamp, {
              lambdaFunctionSucceededEventDetails: { output: stringify(results.get(event.state.name)) },
            });
          }
          push(`${event.state.type}StateExited`, event.timestamp, {
            stateExitedEventDetails: { name: event.state.name, output: stringify(event.state.output) },
          });
        } else if (type === 'ExecutionSucceeded') {
          execution.output = stringify(event.output);
          push('ExecutionSucceeded', event.timestamp, {
            executionSucceededEventDetails: { output: execution.output },
          });
        } else if (type === 'ExecutionFailed') {
          execution.error = event.Error;
          execution.cause = stringify(event.Cause);
          push('ExecutionFailed', event.timestamp, {
            executionFailedEventDetails: { error: execution.error, cause: execution.cause },
          });
        } else if (type === 'ExecutionAborted') {
          execution.error = stopReason.error;
          execution.cause = stopReason.cause;
          push('ExecutionAborted', event.timestamp, {
            executionAbortedEventDetails: { error: stopReason.error, cause: stopReason.cause },
          });
        } else if (type === 'ExecutionTimeout') {
          execution.error = 'States.Timeout';
          push('ExecutionTimedOut', event.timestamp, {
            executionTimedOutEventDetails: { error: 'States.Timeout' },
          });
        }
      }
    };
    const finish = async () => {
      // History is recorded while the execution runs, so GetExecutionHistory can be polled.
      const recording = record();
      const outcome = await run.result.then(
        () => 'SUCCEEDED' as const,
        (error: Error) =>
          error.name === 'ExecutionTimeoutError'
            ? ('TIMED_OUT' as const)
            : error.name === 'ExecutionAbortedError'
              ? ('ABORTED' as const)
              : ('FAILED' as const),
      );
      await recording;
      execution.status = outcome;
      execution.stopDate = seconds(Date.now());
      if (outcome !== 'SUCCEEDED' && options.onExecutionEnded) {
        const detail: ExecutionStatusChangeDetail = {
          executionArn: execution.executionArn,
          stateMachineArn,
          name,
          status: outcome,
          input,
          error: execution.error ?? null,
          cause: execution.cause ?? null,
          startDate: execution.startDate,
          stopDate: execution.stopDate,
        };
        // EventBridge retries a failed Lambda target; so do we, a few times.
        for (let attempt = 1; attempt <= 3; attempt++) {
          try {
            await options.onExecutionEnded(detail);
            break;
          } catch (error) {
            console.error(`execution-ended handler failed (attempt ${attempt})`, error);
          }
        }
      }
    };
    (execution as { done: Promise<void> }).done = finish()
      .catch((error) => console.error(`local execution ${name} broke`, error))
      .finally(() => {
        for (const wake of waiters.get(name) ?? []) wake(execution);
        waiters.delete(name);
      });
    executions.set(name, execution);
    return execution;
  };

  const find = (nameOrArn: string) => executions.get(nameOrArn.split(':').at(-1) ?? nameOrArn);
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
    const execution = find(required(body, 'executionArn'));
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
      const execution = await start(
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
        executions: [...executions.values()]
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
        definition: JSON.stringify(await loadDefinition()),
        roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local`,
        type: 'STANDARD',
        creationDate: seconds(Date.now()),
      };
    },
  };

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
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await new Promise<void>((ready, fail) => server.once('listening', ready).once('error', fail));
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';

  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    stateMachineArn,
    configure(next) {
      retryIntervalMs = next.retryIntervalMs;
    },
    start,
    execution: find,
    executions: () => [...executions.values()],
    waitFor(name, timeoutMs = 30_000) {
      const execution = executions.get(name);
      if (execution && execution.status !== 'RUNNING') return execution.done.then(() => execution);
      return new Promise((done, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`execution ${name} did not finish within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const wake = (ended: LocalExecution) => {
          clearTimeout(timer);
          done(ended);
        };
        waiters.set(name, [...(waiters.get(name) ?? []), wake]);
      });
    },
    async idle() {
      while ([...executions.values()].some((execution) => execution.status === 'RUNNING')) {
        await Promise.all([...executions.values()].map((execution) => execution.done));
      }
    },
    definition: loadDefinition,
    async close() {
      for (const execution of executions.values())
        if (execution.status === 'RUNNING') execution.abort('Shutdown');
      await Promise.race([
        Promise.all([...executions.values()].map((execution) => execution.done)),
        new Promise((done) => setTimeout(done, 5_000)),
      ]);
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
};

// ---------------------------------------------------------------------------------------------
// The local stack's Step Functions

/** Where `npm start` tells `npm run sfn` how to reach its Step Functions endpoint. */
export const endpointsFile = (dataDir: string): string => join(dataDir, 'step-functions.json');

export interface EndpointsFile {
  readonly endpoint: string;
  readonly stateMachineArn: string;
  readonly pid: number;
}

/**
 * Networks the local stack lets web-download reach although they are not public: loopback, so
 * imports from a file server on 127.0.0.1 work. The deployed stack has no exception.
 */
export const LOCAL_ALLOWED_NETWORKS = '127.0.0.0/8,::1/128';

/** The EventBridge event the execution-ended rule delivers, built from the local detail. */
const executionEndedEvent = (detail: ExecutionStatusChangeDetail) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  account: LOCAL_ACCOUNT,
  time: new Date(detail.stopDate * 1000).toISOString(),
  region: REGION,
  resources: [detail.executionArn],
  detail,
});

/**
 * Starts the local Step Functions for the local stack and points the functions at it:
 * `AWS_ENDPOINT_URL_SFN`, `STATE_MACHINE_ARN`, and (unless already set) the web-download filter
 * exceptions for a local file server (`IMPORT_ALLOWED_PORTS=` any port,
 * `IMPORT_ALLOWED_NETWORKS=127.0.0.0/8,::1/128`). Failed, timed-out and aborted executions go to
 * functions/import/execution-ended.ts, as the EventBridge rule sends them on AWS. With a data
 * directory, the endpoint is written to `<dataDir>/step-functions.json` for `npm run sfn`.
 */
export const startLocalImport = async (options: { dataDir?: string; root?: string } = {}) => {
  const root = options.root ?? REPO_ROOT;
  const stepFunctions = await startLocalStepFunctions({
    root,
    onExecutionEnded: async (detail) => {
      const module = await import(
        /* @vite-ignore */ pathToFileURL(resolve(root, EXECUTION_ENDED_ENTRY)).href
      );
      await module.handler(executionEndedEvent(detail));
    },
  });
  process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;
  process.env.STATE_MACHINE_ARN = stepFunctions.stateMachineArn;
  process.env.IMPORT_ALLOWED_PORTS ??= '';
  process.env.IMPORT_ALLOWED_NETWORKS ??= LOCAL_ALLOWED_NETWORKS;
  const file = options.dataDir ? endpointsFile(options.dataDir) : undefined;
  if (file) {
    const endpoints: EndpointsFile = {
      endpoint: stepFunctions.endpoint,
      stateMachineArn: stepFunctions.stateMachineArn,
      pid: process.pid,
    };
    await writeFile(file, `${JSON.stringify(endpoints, null, 2)}\n`);
  }
  return {
    ...stepFunctions,
    async close() {
      if (file) await rm(file, { force: true });
      await stepFunctions.close();
    },
  } satisfies LocalStepFunctions;
};
