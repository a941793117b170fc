/**
 * The import workflow as data: its states in order, the function behind each, their timeouts and
 * retry policies. One source for the CDK construct that builds the state machine
 * (infra/constructs/import.ts), the local runner that maps states to handlers
 * (infra/local/step-functions/) and the failure handler that names the failed step. Pure.
 *
 *   Mark → Fetch → Verify → Promote → Activate → Complete
 *     every step: Catch States.ALL → FailImport → ImportFailed (Fail)
 *
 * Each step stores its result under its own key of the execution state (`$.mark`, `$.fetch`, ...),
 * so the state reaching `FailImport` tells which step failed: the first one without a result.
 */

export const STEP_NAMES = ['Mark', 'Fetch', 'Verify', 'Promote', 'Activate', 'Complete'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** The Lambda state of the failure branch, and the Fail state after it. */
export const FAILURE_STATE = 'FailImport';
export const FAILED_STATE = 'ImportFailed';

/** What every workflow handler may throw on purpose (its `name` is the Lambda error type). */
export const ERROR_NAMES = {
  /** S3 5xx/throttling, DynamoDB throttling, lost conditional-write races, network errors: retried. */
  transient: 'TransientError',
  /** Anything that will not get better by retrying: caught into the failure branch at once. */
  permanent: 'ImportError',
} as const;

/** Errors the Lambda service itself raises while invoking a function (never our code). */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

export interface RetryPolicy {
  readonly errors: readonly string[];
  readonly intervalSeconds: number;
  readonly maxAttempts: number;
  readonly backoffRate: number;
  readonly maxDelaySeconds?: number;
}

const lambdaServiceRetry: RetryPolicy = {
  errors: LAMBDA_SERVICE_ERRORS,
  intervalSeconds: 2,
  maxAttempts: 4,
  backoffRate: 2,
  maxDelaySeconds: 30,
};
const transientRetry = (maxAttempts: number): RetryPolicy => ({
  errors: [ERROR_NAMES.transient],
  intervalSeconds: 1,
  maxAttempts,
  backoffRate: 2,
  maxDelaySeconds: 30,
});
/**
 * What a step that ran out of time fails with: a function that reaches its own timeout fails
 * with `Sandbox.Timedout` (reported as `Lambda.Unknown` by older runtimes, with out-of-memory
 * deaths); `States.Timeout` only if the state's own, longer timeout fires first. The local runner
 * raises `Sandbox.Timedout` as Lambda does (infra/local/lambda-runtime.ts).
 */
export const FUNCTION_TIMEOUT_ERRORS = ['Sandbox.Timedout', 'Lambda.Unknown', 'States.Timeout'] as const;

/** A step that timed out is run again once: every step is idempotent. */
const timeoutRetry: RetryPolicy = {
  errors: FUNCTION_TIMEOUT_ERRORS,
  intervalSeconds: 1,
  maxAttempts: 1,
  backoffRate: 1,
};

export interface StepSpec {
  /** State name, also the key of the local handler map. */
  readonly name: StepName | typeof FAILURE_STATE;
  /** Handler entry, relative to the repository root (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  /** The Lambda function's own timeout. */
  readonly lambdaTimeoutSeconds: number;
  readonly memoryMb: number;
  /** Where the step's result goes in the execution state (`$.<resultKey>`). */
  readonly resultKey: string;
  readonly retries: readonly RetryPolicy[];
}

/**
 * The state's TimeoutSeconds: a little longer than the function's own timeout, so the function
 * is always stopped (and reports why) before the state gives up on it, and no step keeps writing
 * after the failure branch has started cleaning up.
 */
export const stateTimeoutSeconds = (step: StepSpec): number => step.lambdaTimeoutSeconds + 10;

const entry = (name: string) => `functions/import/${name}.ts`;
const SHORT = 30;
/** Data steps may run up to Lambda's 15-minute limit. */
const LONG = 900;

export const STEPS: readonly StepSpec[] = [
  {
    name: 'Mark',
    entry: entry('mark'),
    description: 'Import: task pending → processing, image → importing (conditional).',
    lambdaTimeoutSeconds: SHORT,
    memoryMb: 256,
    resultKey: 'mark',
    retries: [lambdaServiceRetry, transientRetry(4), timeoutRetry],
  },
  {
    name: 'Fetch',
    entry: entry('fetch'),
    description: 'Import: web-download streams the URL into staging; glance-direct finds the staged object.',
    lambdaTimeoutSeconds: LONG,
    memoryMb: 1024,
    resultKey: 'fetch',
    retries: [lambdaServiceRetry, transientRetry(3)],
  },
  {
    name: 'Verify',
    entry: entry('verify'),
    description: 'Import: one streaming pass computing size, md5 and sha512 under the size cap and quota.',
    lambdaTimeoutSeconds: LONG,
    // Hashing is CPU bound; 1769 MB and up buys a full vCPU.
    memoryMb: 1792,
    resultKey: 'verify',
    retries: [lambdaServiceRetry, transientRetry(3)],
  },
  {
    name: 'Promote',
    entry: entry('promote'),
    description: 'Import: copies the staged object to the image key and removes the staged one.',
    lambdaTimeoutSeconds: LONG,
    memoryMb: 512,
    resultKey: 'promote',
    retries: [lambdaServiceRetry, transientRetry(3)],
  },
  {
    name: 'Activate',
    entry: entry('activate'),
    description: 'Import: image importing → active with its data fields; drops the import lock.',
    lambdaTimeoutSeconds: SHORT,
    memoryMb: 256,
    resultKey: 'activate',
    retries: [lambdaServiceRetry, transientRetry(4), timeoutRetry],
  },
  {
    name: 'Complete',
    entry: entry('complete'),
    description: 'Import: task processing → success with its result.',
    lambdaTimeoutSeconds: SHORT,
    memoryMb: 256,
    resultKey: 'complete',
    retries: [lambdaServiceRetry, transientRetry(4), timeoutRetry],
  },
];

/**
 * The failure branch. It must not fail itself: it retries everything but a bug, generously, and
 * is idempotent (a replay on a failed task changes nothing). Should it still fail, the execution
 * ends FAILED and the execution-ended rule runs the same cleanup once more.
 */
export const FAILURE_STEP: StepSpec = {
  name: FAILURE_STATE,
  entry: entry('fail-import'),
  description: 'Import failure branch: task → failure, image → killed, staged data removed, lock released.',
  lambdaTimeoutSeconds: 60,
  memoryMb: 256,
  resultKey: 'failure',
  retries: [
    { ...lambdaServiceRetry, maxAttempts: 8 },
    { ...transientRetry(8), maxDelaySeconds: 60 },
    { ...timeoutRetry, maxAttempts: 3 },
  ],
};

/** Runs after an execution ended FAILED, TIMED_OUT or ABORTED (EventBridge on AWS). */
export const EXECUTION_ENDED_ENTRY = entry('execution-ended');
export const EXECUTION_ENDED_TIMEOUT_SECONDS = 60;

/** Where the Catch puts `{Error, Cause}`. */
export const ERROR_KEY = 'error';

const retryWaitSeconds = (policy: RetryPolicy): number => {
  let total = 0;
  for (let attempt = 0; attempt < policy.maxAttempts; attempt++) {
    const wait = policy.intervalSeconds * policy.backoffRate ** attempt;
    total += policy.maxDelaySeconds === undefined ? wait : Math.min(wait, policy.maxDelaySeconds);
  }
  return total;
};

/** The longest a state can take: every attempt its retriers allow, each up to the state timeout. */
export const worstCaseStateSeconds = (step: StepSpec): number => {
  const attempts = 1 + step.retries.reduce((sum, policy) => sum + policy.maxAttempts, 0);
  const waits = step.retries.reduce((sum, policy) => sum + retryWaitSeconds(policy), 0);
  return attempts * stateTimeoutSeconds(step) + waits;
};

/**
 * The execution's TimeoutSeconds: longer than the slowest possible path through every step and
 * the failure branch, so a step timeout (caught, cleaned up) always fires before the execution
 * timeout (not catchable). The execution timeout is the last-resort backstop; the
 * execution-ended rule cleans up after it.
 */
export const EXECUTION_TIMEOUT_SECONDS =
  Math.ceil([...STEPS, FAILURE_STEP].reduce((sum, step) => sum + worstCaseStateSeconds(step), 0) / 60) * 60 +
  300;

/**
 * How long a task may stay `pending` (docs/import-workflow.md#imports-that-never-started): its execution's first
 * state, Mark, moves it to `processing` or, failing, into the failure branch; once the slowest
 * Mark (every retry, each up to its state timeout) and five minutes more have passed, a task still
 * `pending` has no execution that will ever take it, and the sweeper fails it.
 */
export const UNSTARTED_TASK_SECONDS =
  Math.ceil((worstCaseStateSeconds(STEPS[0] as StepSpec) + 300) / 60) * 60;

/** The step that failed: the first one whose result is missing from the execution state. */
export const failedStepOf = (state: Record<string, unknown>): StepName | undefined =>
  STEPS.find((step) => state[step.resultKey] === undefined)?.name as StepName | undefined;
