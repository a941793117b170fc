/**
 * An execution's history in the shape GetExecutionHistory returns, recorded from the event log of
 * aws-local-stepfunctions while the execution runs (so the history can be polled), with the Lambda
 * events (`LambdaFunctionScheduled` / `Succeeded` / `Failed`) Step Functions adds around each task.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import { localFunctionArn } from '#infra/local/lambda-runtime';

/** A history event (timestamps in epoch seconds). */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: number;
  readonly type: string;
  readonly [details: string]: unknown;
}

/** How the execution ended, as its history says; filled in while recording. */
export interface ExecutionEnd {
  output?: string;
  error?: string;
  cause?: string;
}

type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export const seconds = (ms: number): number => ms / 1000;

/** How Step Functions renders a value in history details and execution descriptions. */
export const stringify = (value: unknown): string => {
  if (value === undefined) return 'null';
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  return JSON.stringify(value);
};

export interface RecordOptions {
  /** The execution resumes after a restart: its history already starts with ExecutionStarted. */
  readonly skipStart?: boolean;
  /** Called with each event as it is appended (the local store writes it to disk). */
  readonly onEvent?: (event: HistoryEvent) => void;
}

/**
 * Appends every event of `eventLogs` to `events` until the execution ends, and records how it ended
 * in `end`. `lambdaResults` holds each task's own result (the state's output is the merged state);
 * `stopReason` is what StopExecution gave, for an aborted execution. Event ids continue from the
 * events already there.
 */
export const recordHistory = async (
  eventLogs: AsyncIterable<EventLog>,
  events: HistoryEvent[],
  end: ExecutionEnd,
  lambdaResults: ReadonlyMap<string, unknown>,
  stopReason: () => { error?: string; cause?: string },
  roleArn: string,
  options: RecordOptions = {},
): Promise<void> => {
  const push = (type: string, timestamp: number, details: Record<string, unknown> = {}) => {
    const event: HistoryEvent = {
      id: events.length + 1,
      previousEventId: events.length,
      timestamp: seconds(timestamp),
      type,
      ...details,
    };
    events.push(event);
    options.onEvent?.(event);
  };
  const scheduled = (timestamp: number, state: { name: string; input: unknown }) =>
    push('LambdaFunctionScheduled', timestamp, {
      lambdaFunctionScheduledEventDetails: {
        resource: localFunctionArn(state.name),
        input: stringify(state.input),
      },
    });
  // A Task state whose last attempt failed exits through its Catch: no LambdaFunctionSucceeded.
  let attemptFailed = false;
  for await (const event of eventLogs) {
    const type = event.type;
    if (type === 'ExecutionStarted') {
      if (options.skipStart) continue;
      push('ExecutionStarted', event.timestamp, {
        executionStartedEventDetails: { input: stringify(event.input), roleArn },
      });
    } else if (type === 'StateEntered') {
      attemptFailed = false;
      push(`${event.state.type}StateEntered`, event.timestamp, {
        stateEnteredEventDetails: { name: event.state.name, input: stringify(event.state.input) },
      });
      if (event.state.type === 'Task') scheduled(event.timestamp, event.state);
    } else if (type === 'StateRetried') {
      attemptFailed = false;
      scheduled(event.timestamp, event.state);
    } else if (type === 'StateFailed' && event.state.type === 'Task') {
      attemptFailed = true;
      // The state's own timeout ends the attempt as timed out; a function's own timeout
      // (`Sandbox.Timedout`) is a failure of the function, as on AWS.
      if (event.Error === 'States.Timeout') {
        push('LambdaFunctionTimedOut', event.timestamp, {
          lambdaFunctionTimedOutEventDetails: { error: event.Error, cause: stringify(event.Cause) },
        });
      } else {
        push('LambdaFunctionFailed', event.timestamp, {
          lambdaFunctionFailedEventDetails: { error: event.Error, cause: stringify(event.Cause) },
        });
      }
    } else if (type === 'StateExited') {
      if (event.state.type === 'Task' && !attemptFailed) {
        push('LambdaFunctionSucceeded', event.timestamp, {
          lambdaFunctionSucceededEventDetails: { output: stringify(lambdaResults.get(event.state.name)) },
        });
      }
      push(`${event.state.type}StateExited`, event.timestamp, {
        stateExitedEventDetails: { name: event.state.name, output: stringify(event.state.output) },
      });
    } else if (type === 'ExecutionSucceeded') {
      end.output = stringify(event.output);
      push('ExecutionSucceeded', event.timestamp, {
        executionSucceededEventDetails: { output: end.output },
      });
    } else if (type === 'ExecutionFailed') {
      end.error = event.Error;
      end.cause = stringify(event.Cause);
      push('ExecutionFailed', event.timestamp, {
        executionFailedEventDetails: { error: end.error, cause: end.cause },
      });
    } else if (type === 'ExecutionAborted') {
      const { error, cause } = stopReason();
      end.error = error;
      end.cause = cause;
      push('ExecutionAborted', event.timestamp, { executionAbortedEventDetails: { error, cause } });
    } else if (type === 'ExecutionTimeout') {
      end.error = 'States.Timeout';
      push('ExecutionTimedOut', event.timestamp, {
        executionTimedOutEventDetails: { error: 'States.Timeout' },
      });
    }
  }
};
