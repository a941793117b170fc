import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import {
  type Chain,
  DefinitionBody,
  Fail,
  type IChainable,
  LogLevel,
  QueryLanguage,
  StateMachine,
  StateMachineType,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { applyImportGrants } from '#infra/grants';
import {
  ERROR_KEY,
  EXECUTION_ENDED_ENTRY,
  EXECUTION_ENDED_TIMEOUT_SECONDS,
  EXECUTION_TIMEOUT_SECONDS,
  FAILED_STATE,
  FAILURE_STEP,
  STEPS,
  type StepSpec,
  stateTimeoutSeconds,
} from '#shared/import/state-machine';
import { dataEnvironment, type FunctionSettings, GlanceFunction, tunedProps } from './glance-function.ts';
import { vendedLogGroupName } from './log-names.ts';
import type { Monitoring } from './monitoring.ts';

export interface ImportWorkflowProps {
  readonly table: ITable;
  readonly bucket: IBucket;
  /** Memory, timeouts and environment from the settings; without them, the steps' own. */
  readonly functions?: FunctionSettings;
  /** Dead-letter queues, alarms and the state machine's log retention; without it, none. */
  readonly monitoring?: Monitoring;
  /** @default one month */
  readonly logRetention?: RetentionDays;
}

/**
 * The import workflow (docs/import-workflow.md#import-flow): a Standard state machine in JSONPath (the local runner,
 * aws-local-stepfunctions, runs JSONPath only) whose steps, timeouts and retries come from
 * shared/import/state-machine.ts, one Lambda function per state.
 *
 *   Mark → Fetch → Verify → Promote → Activate → Complete
 *   each step: Retry (Lambda service errors, TransientError, timeouts for short steps)
 *              Catch States.ALL (ResultPath $.error) → FailImport → ImportFailed (Fail)
 *
 * An EventBridge rule sends FAILED / TIMED_OUT / ABORTED executions to a cleanup function, so
 * neither the execution timeout (not catchable) nor a console "Stop execution" can leave a task
 * processing or an image importing.
 */
export class ImportWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  /** Ended executions whose cleanup could not be delivered or failed (with monitoring). */
  readonly executionEndedFailures: Queue | undefined;
  /** Import functions by state name, plus `ExecutionEnded`. */
  readonly functions: ReadonlyMap<string, GlanceFunction>;

  constructor(scope: Construct, id: string, props: ImportWorkflowProps) {
    super(scope, id);
    const environment = dataEnvironment(props);
    const functions = new Map<string, GlanceFunction>();
    const fn = (
      name: string,
      entry: string,
      timeoutSeconds: number,
      memoryMb: number,
      description: string,
    ) => {
      const created = new GlanceFunction(
        this,
        `${name}Function`,
        tunedProps(
          props.functions,
          name,
          { entry, description, environment },
          {
            memoryMb,
            timeoutSeconds,
            // The state timeouts and the execution timeout are derived from the steps' own.
            maxTimeoutSeconds: timeoutSeconds,
            maxTimeoutReason: `the import's state and execution timeouts are derived from ${name}'s ${timeoutSeconds} s (shared/import/state-machine.ts)`,
          },
        ),
      );
      applyImportGrants(created, name, props);
      functions.set(name, created);
      return created;
    };
    const stepFunction = (step: StepSpec) =>
      fn(step.name, step.entry, step.lambdaTimeoutSeconds, step.memoryMb, step.description);

    const failed = new Fail(this, FAILED_STATE, {
      comment: 'The import failed; the task message says why.',
      errorPath: `$.${ERROR_KEY}.Error`,
      causePath: `$.${FAILURE_STEP.resultKey}.message`,
    });
    const failFunction = stepFunction(FAILURE_STEP);
    const failImport = this.invoke(FAILURE_STEP, failFunction).next(failed);

    const states = STEPS.map((step) => {
      const handler = stepFunction(step);
      const state = this.invoke(step, handler);
      state.addCatch(failImport, { errors: ['States.ALL'], resultPath: `$.${ERROR_KEY}` });
      return state;
    });
    const [first, ...rest] = states as [LambdaInvoke, ...LambdaInvoke[]];
    let chain: Chain | LambdaInvoke = first;
    for (const state of rest) chain = chain.next(state);

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      queryLanguage: QueryLanguage.JSON_PATH,
      definitionBody: DefinitionBody.fromChainable(chain as IChainable),
      timeout: Duration.seconds(EXECUTION_TIMEOUT_SECONDS),
      // Every state's events, without the data: states carry web-download URLs, which may hold credentials.
      logs: {
        destination: new LogGroup(this, 'StateMachineLogs', {
          // Step Functions adds any log group outside /aws/vendedlogs/ to the account's CloudWatch Logs
          // resource policy (5120 characters), which may be full on an established account.
          logGroupName: vendedLogGroupName(this, 'states', 'import'),
          retention: props.logRetention ?? RetentionDays.ONE_MONTH,
        }),
        level: LogLevel.ALL,
        includeExecutionData: false,
      },
      tracingEnabled: true,
      comment:
        'serverless-glance image import: input {"task_id": "<task id>"}; everything else is read from the task.',
    });

    const ended = fn(
      'ExecutionEnded',
      EXECUTION_ENDED_ENTRY,
      EXECUTION_ENDED_TIMEOUT_SECONDS,
      256,
      'Import: cleans up after an execution that ended FAILED, TIMED_OUT or ABORTED.',
    );
    // EventBridge invokes asynchronously: an event it cannot deliver, or the cleanup keeps failing
    // on, is kept in a queue (alarmed) rather than leaving a task processing.
    const failures = props.monitoring?.deadLetterQueue(
      this,
      'ExecutionEndedFailures',
      'ended import executions whose cleanup could not be delivered or failed',
    );
    this.executionEndedFailures = failures;
    ended.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      ...(failures ? { onFailure: new SqsDestination(failures) } : {}),
    });
    new Rule(this, 'ExecutionEndedRule', {
      description: 'Import executions that did not succeed: make sure their task and image are finished.',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [this.stateMachine.stateMachineArn],
        },
      },
      targets: [
        new LambdaFunction(ended, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
          ...(failures ? { deadLetterQueue: failures } : {}),
        }),
      ],
    });

    this.functions = functions;
  }

  /** Lets an API function start executions: `STATE_MACHINE_ARN` and `states:StartExecution`. */
  allowStart(fn: GlanceFunction): void {
    fn.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(fn);
  }

  /** A Lambda task state with the step's timeout, result path and retries. */
  private invoke(step: StepSpec, lambdaFunction: IFunction): LambdaInvoke {
    const state = LambdaInvoke.jsonPath(this, step.name, {
      lambdaFunction,
      comment: step.description,
      // The function's return value is the state's result (Resource = the function ARN).
      payloadResponseOnly: true,
      // The state, plus the execution's name: only the execution that started a task moves it on.
      payload: TaskInput.fromObject({ 'state.$': '$', 'execution.$': '$$.Execution.Name' }),
      // Our own retriers below name the Lambda service errors explicitly.
      retryOnServiceExceptions: false,
      resultPath: `$.${step.resultKey}`,
      taskTimeout: Timeout.duration(Duration.seconds(stateTimeoutSeconds(step))),
    });
    for (const retry of step.retries) {
      state.addRetry({
        errors: [...retry.errors],
        interval: Duration.seconds(retry.intervalSeconds),
        maxAttempts: retry.maxAttempts,
        backoffRate: retry.backoffRate,
        ...(retry.maxDelaySeconds === undefined ? {} : { maxDelay: Duration.seconds(retry.maxDelaySeconds) }),
      });
    }
    return state;
  }
}
