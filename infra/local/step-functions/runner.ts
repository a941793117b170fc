/**
 * Executions of the import state machine on one machine: aws-local-stepfunctions runs the
 * synthesized definition (definition.ts), every Lambda task state mapped by name to its handler,
 * invoked through the local Lambda runtime, so a thrown error's `name` is the error type that Retry
 * and Catch match, and a function that outlives its timeout fails with `Sandbox.Timedout`. History
 * is recorded while an execution runs (history.ts). When an execution ends FAILED, TIMED_OUT or
 * ABORTED, `onExecutionEnded` gets the EventBridge "Execution Status Change" detail, as the rule
 * delivers it on AWS.
 */
import { randomUUID } from 'node:crypto';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type LocalFunction,
  lambdaRuntime,
} from '#infra/local/lambda-runtime';
import { STATE_FUNCTIONS, synthesizeImportDefinition } from './definition.ts';
import { type HistoryEvent, recordHistory, seconds } from './history.ts';

export const LOCAL_STATE_MACHINE_NAME = 'ImportWorkflow';
export const LOCAL_STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${LOCAL_STATE_MACHINE_NAME}`;
/** The role executions report (nothing checks it locally). */
export const LOCAL_ROLE_ARN = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/local`;

const executionArnOf = (name: string) =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:execution:${LOCAL_STATE_MACHINE_NAME}:${name}`;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

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

export interface RunnerOptions {
  /** Handler entries are relative to this directory; defaults to the repository root. */
  readonly root?: string;
  /** Called for FAILED, TIMED_OUT and ABORTED executions (the EventBridge rule on AWS). */
  readonly onExecutionEnded?: (detail: ExecutionStatusChangeDetail) => Promise<unknown>;
  /** Overrides every retry wait (ms); tests use a few ms instead of the definition's seconds. */
  readonly retryIntervalMs?: number;
  /** Defaults to the synthesized import state machine. */
  readonly definition?: () => Promise<StateMachineDefinition>;
  /**
   * The function of each Lambda state (entry, timeout, memory); defaults to the import's. Each
   * invocation fails with `Sandbox.Timedout` once the function's timeout has passed, as on AWS.
   */
  readonly functions?: Readonly<Record<string, Omit<LocalFunction, 'name'>>>;
}

/** What a test may change for the executions it starts next. */
export interface RunnerSettings {
  /** Overrides every retry wait (ms). */
  readonly retryIntervalMs?: number;
  /**
   * Function timeouts by state name, in place of the function's own: what the context counts
   * down from and when the invocation fails with `Sandbox.Timedout`.
   */
  readonly functionTimeoutSeconds?: Readonly<Record<string, number>>;
}

/** A refusal of the Step Functions API (its `__type`), for the server to answer with. */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface ExecutionRunner {
  readonly stateMachineArn: string;
  /** Changes the retry wait and function timeout overrides for executions started from now on. */
  configure(options: RunnerSettings): void;
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
  /** Aborts every running execution and waits (at most 5 s) for them to end. */
  stopAll(): Promise<void>;
}

/** How an execution's run ended, from the error aws-local-stepfunctions rejects with. */
const statusOf = (error: Error): ExecutionStatus =>
  error.name === 'ExecutionTimeoutError'
    ? 'TIMED_OUT'
    : error.name === 'ExecutionAbortedError'
      ? 'ABORTED'
      : 'FAILED';

export const executionRunner = (options: RunnerOptions = {}): ExecutionRunner => {
  const runtime = lambdaRuntime(options.root);
  const functions = options.functions ?? STATE_FUNCTIONS;
  const stateMachineArn = LOCAL_STATE_MACHINE_ARN;
  let retryIntervalMs = options.retryIntervalMs;
  let timeoutOverrides: Readonly<Record<string, number>> = {};
  let definition: Promise<StateMachineDefinition> | undefined;
  const loadDefinition = () => {
    definition ??= (options.definition ?? synthesizeImportDefinition)();
    definition.catch(() => {
      definition = undefined;
    });
    return definition;
  };
  const executions = new Map<string, LocalExecution>();
  const waiters = new Map<string, ((execution: LocalExecution) => void)[]>();

  /** Tells the execution-ended handler, retried a few times as EventBridge retries its target. */
  const reportEnd = async (execution: LocalExecution) => {
    if (execution.status === 'SUCCEEDED' || !options.onExecutionEnded) return;
    const detail: ExecutionStatusChangeDetail = {
      executionArn: execution.executionArn,
      stateMachineArn,
      name: execution.name,
      status: execution.status,
      input: execution.input,
      error: execution.error ?? null,
      cause: execution.cause ?? null,
      startDate: execution.startDate,
      stopDate: execution.stopDate ?? seconds(Date.now()),
    };
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        await options.onExecutionEnded(detail);
        return;
      } catch (error) {
        console.error(`execution-ended handler failed (attempt ${attempt})`, error);
      }
    }
  };

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
    // Overrides are read once: an execution keeps the timeouts it started with.
    const timeouts = timeoutOverrides;
    // The function's own result, for LambdaFunctionSucceeded (TaskStateExited has the merged state).
    const results = new Map<string, unknown>();
    const handlers = Object.fromEntries(
      Object.entries(functions).map(([state, fn]) => [
        state,
        async (payload: unknown) => {
          const result = await runtime.invoke(
            { name: state, ...fn, timeoutSeconds: timeouts[state] ?? fn.timeoutSeconds },
            payload,
            { enforceTimeout: true },
          );
          results.set(state, result);
          return result;
        },
      ]),
    );
    const run = machine.run(parsed as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        ...(wait === undefined
          ? {}
          : {
              retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((state) => [state, wait])),
            }),
      },
      context: { Execution: { Id: executionArnOf(name), Name: name, RoleArn: LOCAL_ROLE_ARN } },
    });
    let stopReason: { error?: string; cause?: string } = {};
    const execution: LocalExecution = {
      executionArn: executionArnOf(name),
      name,
      input,
      status: 'RUNNING',
      startDate: seconds(Date.now()),
      events: [],
      done: Promise.resolve(),
      abort(error, cause) {
        stopReason = { error, cause };
        run.abort();
      },
    };
    const finish = async () => {
      // History is recorded while the execution runs, so GetExecutionHistory can be polled.
      const recording = recordHistory(
        run.eventLogs,
        execution.events,
        execution,
        results,
        () => stopReason,
        LOCAL_ROLE_ARN,
      );
      const outcome = await run.result.then(() => 'SUCCEEDED' as const, statusOf);
      await recording;
      execution.status = outcome;
      execution.stopDate = seconds(Date.now());
      await reportEnd(execution);
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

  return {
    stateMachineArn,
    configure(next) {
      retryIntervalMs = next.retryIntervalMs;
      timeoutOverrides = next.functionTimeoutSeconds ?? {};
    },
    start,
    execution: (nameOrArn) => executions.get(nameOrArn.split(':').at(-1) ?? nameOrArn),
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
    async stopAll() {
      for (const execution of executions.values())
        if (execution.status === 'RUNNING') execution.abort('Shutdown');
      await Promise.race([
        Promise.all([...executions.values()].map((execution) => execution.done)),
        new Promise((done) => setTimeout(done, 5_000)),
      ]);
    },
  };
};
