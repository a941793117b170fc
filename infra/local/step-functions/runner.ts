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
import { ERROR_KEY, FAILURE_STATE } from '#shared/import/state-machine';
import { STATE_FUNCTIONS, synthesizeImportDefinition } from './definition.ts';
import { type HistoryEvent, recordHistory, seconds } from './history.ts';
import type { ExecutionStore, PersistedExecution } from './store.ts';

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
  /** Stops the execution as StopExecution does (a no-op once it has ended). */
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
  /** Where executions are kept across restarts (`npm start`); without it they live in memory. */
  readonly store?: ExecutionStore;
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

/** What `recover` found in the store. */
export interface RecoveryReport {
  /** Executions that were running when the process stopped, now failed through FailImport. */
  readonly failed: string[];
  /** Ended executions whose end is reported again to the execution-ended cleanup. */
  readonly reported: string[];
}

export interface ExecutionRunner {
  readonly stateMachineArn: string;
  /**
   * Takes back the executions of the store after a restart: lists the ended ones, reports again
   * the ends the cleanup never got, fails the ones that were running. Call once, before `start`.
   */
  recover(): Promise<RecoveryReport>;
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
const statusOf = (error: Error): Exclude<ExecutionStatus, 'RUNNING' | 'SUCCEEDED'> =>
  error.name === 'ExecutionTimeoutError'
    ? 'TIMED_OUT'
    : error.name === 'ExecutionAbortedError'
      ? 'ABORTED'
      : 'FAILED';

export const executionRunner = (options: RunnerOptions = {}): ExecutionRunner => {
  const runtime = lambdaRuntime(options.root);
  const functions = options.functions ?? STATE_FUNCTIONS;
  const store = options.store;
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
  const stopRequests = new WeakMap<LocalExecution, { error?: string; cause?: string }>();
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
        store?.reported(execution.name);
        return;
      } catch (error) {
        console.error(`execution-ended handler failed (attempt ${attempt})`, error);
      }
    }
  };

  const wakeWaiters = (execution: LocalExecution) => {
    for (const wake of waiters.get(execution.name) ?? []) wake(execution);
    waiters.delete(execution.name);
  };

  /**
   * Runs `machineDefinition` on `runInput` as (the rest of) the execution `execution`: history
   * recorded (and stored) as it goes, its end recorded and reported. `resumed`: the execution
   * started before a restart, so its history already has its ExecutionStarted event.
   */
  const run = async (
    execution: LocalExecution,
    machineDefinition: StateMachineDefinition,
    runInput: unknown,
    resumed: boolean,
  ) => {
    // Read before the first await: an execution keeps the overrides it started with.
    const wait = retryIntervalMs;
    const timeouts = timeoutOverrides;
    const { StateMachine } = await import('aws-local-stepfunctions');
    const machine = new StateMachine(structuredClone(machineDefinition));
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
    const running = machine.run(runInput as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        ...(wait === undefined
          ? {}
          : {
              retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((state) => [state, wait])),
            }),
      },
      context: {
        Execution: { Id: execution.executionArn, Name: execution.name, RoleArn: LOCAL_ROLE_ARN },
      },
    });
    let stopReason: { error?: string; cause?: string } = {};
    const requested = stopRequests.get(execution);
    execution.abort = (error, cause) => {
      stopReason = { error, cause };
      running.abort();
    };
    if (requested) execution.abort(requested.error, requested.cause);
    // History is recorded while the execution runs, so GetExecutionHistory can be polled.
    const recording = recordHistory(
      running.eventLogs,
      execution.events,
      execution,
      results,
      () => stopReason,
      LOCAL_ROLE_ARN,
      { skipStart: resumed, onEvent: (event) => store?.event(execution.name, event) },
    );
    const outcome = await running.result.then(() => 'SUCCEEDED' as const, statusOf);
    await recording;
    execution.status = outcome;
    execution.stopDate = seconds(Date.now());
    store?.ended(execution.name, {
      status: outcome,
      stopDate: execution.stopDate,
      ...(execution.output === undefined ? {} : { output: execution.output }),
      ...(execution.error === undefined ? {} : { error: execution.error }),
      ...(execution.cause === undefined ? {} : { cause: execution.cause }),
    });
    await reportEnd(execution);
  };

  /** Registers a running execution and runs it to its end; `done` settles when it is over. */
  const launch = (execution: LocalExecution, work: () => Promise<void>) => {
    executions.set(execution.name, execution);
    (execution as { done: Promise<void> }).done = work()
      .catch((error) => console.error(`local execution ${execution.name} broke`, error))
      .finally(() => wakeWaiters(execution));
  };

  const newExecution = (name: string, input: string, startDate: number, events: HistoryEvent[]) => {
    const execution: LocalExecution = {
      executionArn: executionArnOf(name),
      name,
      input,
      status: 'RUNNING',
      startDate,
      events,
      done: Promise.resolve(),
      // Until its run has begun, a stop is remembered and applied as the run begins.
      abort(error, cause) {
        if (execution.status === 'RUNNING') stopRequests.set(execution, { error, cause });
      },
    };
    return execution;
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
    const machineDefinition = await loadDefinition();
    const execution = newExecution(name, input, seconds(Date.now()), []);
    store?.started(name, input, execution.startDate);
    launch(execution, () => run(execution, machineDefinition, parsed, false));
    return execution;
  };

  /**
   * The executions of the store, after a restart (docs/local-development.md#durable-executions):
   * ended ones are listed again, those whose end never reached the execution-ended cleanup are
   * reported again, and those that were running when the process stopped are failed through the
   * workflow's own failure branch, from the last state their history recorded.
   */
  const recover = async (): Promise<RecoveryReport> => {
    const report: RecoveryReport = { failed: [], reported: [] };
    if (!store) return report;
    for (const persisted of store.load()) {
      if (executions.has(persisted.name)) continue;
      const execution = newExecution(persisted.name, persisted.input, persisted.startDate, persisted.events);
      if (persisted.end) {
        Object.assign(execution, persisted.end);
        executions.set(execution.name, execution);
        if (!persisted.reported) {
          report.reported.push(execution.name);
          launch(execution, () => reportEnd(execution));
        }
        continue;
      }
      report.failed.push(execution.name);
      const machineDefinition = await loadDefinition();
      launch(execution, () =>
        run(execution, branchFrom(machineDefinition, FAILURE_STATE), failureInput(persisted), true),
      );
    }
    return report;
  };

  return {
    stateMachineArn,
    configure(next) {
      retryIntervalMs = next.retryIntervalMs;
      timeoutOverrides = next.functionTimeoutSeconds ?? {};
    },
    start,
    recover,
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

/** The part of a definition that starts at `state`: it and the states its `Next` chain leads to. */
export const branchFrom = (definition: StateMachineDefinition, state: string): StateMachineDefinition => {
  const States: Record<string, unknown> = {};
  for (let name: string | undefined = state; name && !(name in States); ) {
    const current = definition.States[name] as { Next?: string } | undefined;
    if (!current) throw new Error(`the definition has no state ${name}`);
    States[name] = current;
    name = current.Next;
  }
  return { ...definition, StartAt: state, States } as StateMachineDefinition;
};

/** The error the failure branch gets for an execution the local stack stopped in the middle of. */
export const RESTART_ERROR = 'Local.Restarted';

/**
 * The failure branch's input for an execution that was running when the process stopped: the
 * last execution state its history recorded (a state's input when it was entered, or its output
 * when it was left), with the error the Catch would have added. If the failure branch itself was
 * running, its own input (with the original error) is used again.
 */
export const failureInput = (persisted: Pick<PersistedExecution, 'input' | 'events'>): unknown => {
  let state: Record<string, unknown> | undefined;
  for (const event of [...persisted.events].reverse()) {
    const details = event.type.endsWith('StateEntered')
      ? (event.stateEnteredEventDetails as { name?: string; input?: string } | undefined)
      : event.type.endsWith('StateExited')
        ? (event.stateExitedEventDetails as { name?: string; output?: string } | undefined)
        : undefined;
    const text = details && ('input' in details ? details.input : (details as { output?: string }).output);
    if (typeof text !== 'string') continue;
    try {
      state = JSON.parse(text) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (details?.name === FAILURE_STATE && event.type.endsWith('StateEntered')) return state;
    break;
  }
  state ??= (() => {
    try {
      return JSON.parse(persisted.input) as Record<string, unknown>;
    } catch {
      return {};
    }
  })();
  return {
    ...state,
    [ERROR_KEY]: {
      Error: RESTART_ERROR,
      Cause:
        'The local stack stopped while this execution was running; it was failed through the failure branch when the stack started again.',
    },
  };
};
