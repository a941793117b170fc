/**
 * The import workflow's state machine as `cdk synth` produces it: valid ASL (asl-validator), the
 * shape the issue asks for (JSONPath, Standard, retries and a Catch on every step into one
 * failure branch, per-step and execution timeouts), the very definition the local runner uses,
 * and its retry/catch semantics run in aws-local-stepfunctions with stub handlers.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '#infra/constructs/glance-function';
import { listBucketAllowed } from '#infra/local/s3-access';
import {
  definitionFromTemplate,
  importFunctionIds,
  STATE_FUNCTIONS,
  synthesizeImportDefinition,
} from '#infra/local/step-functions/definition';
import { IMPORT_STARTING_ROUTES, routes } from '#infra/routes';
import { ServerlessGlanceStack } from '#infra/stack';
import { ImportError, TransientError } from '#shared/import/errors';
import {
  EXECUTION_ENDED_ENTRY,
  EXECUTION_TIMEOUT_SECONDS,
  FAILURE_STEP,
  FUNCTION_TIMEOUT_ERRORS,
  failedStepOf,
  STEP_NAMES,
  STEPS,
  stateTimeoutSeconds,
  worstCaseStateSeconds,
} from '#shared/import/state-machine';
import { roleStatementsIn } from '#test/helpers/role-statements';

type Resource = { Type: string; Properties: Record<string, unknown> };
type TaskState = {
  Type: string;
  Resource: string;
  Next?: string;
  End?: boolean;
  TimeoutSeconds: number;
  ResultPath: string;
  Retry?: Array<{ ErrorEquals: string[]; MaxAttempts: number }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath: string }>;
};

const aslValidator = createRequire(import.meta.url)('asl-validator') as (
  definition: unknown,
  options?: { checkArn?: boolean; checkPaths?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

let definition: StateMachineDefinition & { QueryLanguage?: string };
let stack: ServerlessGlanceStack;
let resources: Record<string, Resource>;

beforeAll(async () => {
  definition = (await synthesizeImportDefinition()) as typeof definition;
  // The whole service, bundling skipped; route entries other people write may not exist yet.
  const existsSync = fs.existsSync;
  const entries = new Set(routes.map((route) => join(REPO_ROOT, route.entry)));
  vi.spyOn(fs, 'existsSync').mockImplementation((path) => entries.has(String(path)) || existsSync(path));
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      'serverless-glance:identityMode': 'jwt',
      'serverless-glance:jwtIssuer': 'https://issuer.test/',
      'serverless-glance:jwtAudience': 'glance-test',
    },
  });
  stack = new ServerlessGlanceStack(app, 'WorkflowTestStack');
  // The stack and its nested stacks (the metadefs routes live in one).
  resources = Object.assign(
    {},
    ...[stack, ...stack.api.nestedStacks.values()].map((each) => Template.fromStack(each).toJSON().Resources),
  );
}, 60_000);
afterAll(() => {
  vi.restoreAllMocks();
});

const state = (name: string) => definition.States[name] as unknown as TaskState;
const ofType = (type: string) => Object.values(resources).filter((resource) => resource.Type === type);
const logicalId = (element: CfnElement | undefined) => {
  if (!element) throw new Error('no resource');
  return Stack.of(element).getLogicalId(element);
};

describe('the synthesized definition', () => {
  it('is valid ASL (asl-validator, with ARN and path checks)', () => {
    const result = aslValidator(structuredClone(definition), { checkArn: true, checkPaths: true });
    expect(result.isValid, result.errorsText('\n')).toBe(true);
  });

  it('is JSONPath (the local runner ignores JSONata) with the task id as its only input', () => {
    expect(definition.QueryLanguage).toBe('JSONPath');
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/JSONata|"Arguments"|"Output"|\{%/);
    expect(definition.Comment).toContain('{"task_id": "<task id>"}');
  });

  it('chains Mark → Fetch → Verify → Promote → Activate → Complete', () => {
    expect(definition.StartAt).toBe('Mark');
    const order: string[] = [];
    for (let name: string | undefined = definition.StartAt; name; name = state(name).Next) order.push(name);
    expect(order).toEqual([...STEP_NAMES]);
    expect(state('Complete').End).toBe(true);
    expect(Object.keys(definition.States).sort()).toEqual(
      [...STEP_NAMES, 'FailImport', 'ImportFailed'].sort(),
    );
  });

  it.each(STEPS.map((step) => [step.name, step] as const))(
    '%s: Lambda task with its timeout, its result key, retries and a Catch into FailImport',
    (name, step) => {
      const task = state(name);
      expect(task.Type).toBe('Task');
      expect(task.Resource).toBe(`arn:aws:lambda:us-east-1:000000000000:function:${name}`);
      expect(task.TimeoutSeconds).toBe(stateTimeoutSeconds(step));
      expect(task.TimeoutSeconds).toBeGreaterThan(step.lambdaTimeoutSeconds);
      expect(task.ResultPath).toBe(`$.${step.resultKey}`);
      // The function gets the state and the execution's name (only the owner moves a task on).
      expect((task as unknown as { Parameters: unknown }).Parameters).toEqual({
        'state.$': '$',
        'execution.$': '$$.Execution.Name',
      });
      expect(task.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], Next: 'FailImport', ResultPath: '$.error' },
      ]);
      const retried = task.Retry?.flatMap((retry) => retry.ErrorEquals) ?? [];
      expect(retried).toEqual(
        expect.arrayContaining([
          'TransientError',
          'Lambda.ServiceException',
          'Lambda.AWSLambdaException',
          'Lambda.SdkClientException',
          'Lambda.TooManyRequestsException',
        ]),
      );
      expect(retried).not.toContain('States.ALL');
      expect(retried).not.toContain('ImportError');
      // Short, idempotent steps try again after a timeout, as AWS reports it (a function's own
      // timeout is Sandbox.Timedout); data steps (up to 15 min) do not.
      for (const error of FUNCTION_TIMEOUT_ERRORS) {
        expect(retried.includes(error)).toBe(step.lambdaTimeoutSeconds < 900);
      }
      // The function's own timeout comes first, so AWS reports Sandbox.Timedout, not States.Timeout.
      expect(stateTimeoutSeconds(step)).toBeGreaterThan(step.lambdaTimeoutSeconds);
    },
  );

  it('has one failure branch that retries itself and ends in a Fail state naming the error', () => {
    const fail = state('FailImport');
    expect(fail.Next).toBe('ImportFailed');
    expect(fail.Catch).toBeUndefined();
    expect(fail.Retry?.flatMap((retry) => retry.ErrorEquals)).toEqual(
      expect.arrayContaining(['TransientError', 'Lambda.ServiceException', ...FUNCTION_TIMEOUT_ERRORS]),
    );
    expect(definition.States.ImportFailed).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.error.Error',
      CausePath: '$.failure.message',
    });
  });

  it('times the execution out only after the slowest possible path through the steps and the branch', () => {
    const slowest = [...STEPS, FAILURE_STEP].reduce((sum, step) => sum + worstCaseStateSeconds(step), 0);
    expect(definition.TimeoutSeconds).toBe(EXECUTION_TIMEOUT_SECONDS);
    expect(EXECUTION_TIMEOUT_SECONDS).toBeGreaterThan(slowest);
  });

  it('is the definition of the full stack, ARNs aside', () => {
    const full = definitionFromTemplate(
      Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> },
      importFunctionIds(stack, stack.importWorkflow),
    );
    expect(full).toEqual(definition);
  });
});

describe('in the stack', () => {
  it('is a Standard state machine whose role may invoke exactly the workflow functions, as the local runner runs them', () => {
    const [machine] = ofType('AWS::StepFunctions::StateMachine');
    expect(machine?.Properties.StateMachineType).toBe('STANDARD');
    const functions = [...STEPS, FAILURE_STEP].map((step) => stack.importWorkflow.functions.get(step.name));
    // The local runner gives each state the timeout and memory deployed here.
    for (const step of [...STEPS, FAILURE_STEP]) {
      const fn = stack.importWorkflow.functions.get(step.name);
      expect(resources[logicalId(fn?.node.defaultChild as CfnElement)]?.Properties).toMatchObject({
        Timeout: STATE_FUNCTIONS[step.name]?.timeoutSeconds,
        MemorySize: STATE_FUNCTIONS[step.name]?.memoryMb,
      });
    }
    const roleId = logicalId(stack.importWorkflow.stateMachine.role.node.defaultChild as CfnElement);
    const policy = ofType('AWS::IAM::Policy').find((p) =>
      JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`),
    );
    const invoked = JSON.stringify(policy);
    for (const fn of functions) expect(invoked).toContain(logicalId(fn?.node.defaultChild as CfnElement));
  });

  it('lets only the import-starting routes start executions, with STATE_MACHINE_ARN set', () => {
    const machineId = logicalId(stack.importWorkflow.stateMachine.node.defaultChild as CfnElement);
    for (const [name, fn] of stack.api.functions) {
      const props = resources[logicalId(fn.node.defaultChild as CfnElement)]?.Properties as {
        Environment: { Variables: Record<string, unknown> };
      };
      const role = logicalId(fn.role?.node.defaultChild as CfnElement);
      const statements = JSON.stringify(
        ofType('AWS::IAM::Policy').filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${role}"`)),
      );
      if (IMPORT_STARTING_ROUTES.has(name)) {
        expect(props.Environment.Variables.STATE_MACHINE_ARN).toEqual({ Ref: machineId });
        expect(statements).toContain('states:StartExecution');
      } else {
        expect(props.Environment.Variables.STATE_MACHINE_ARN).toBeUndefined();
        expect(statements).not.toContain('states:StartExecution');
      }
    }
  });

  it('never sets LOCAL_FAULTS (fault injection is test-only) and keeps the default URI filter', () => {
    for (const fn of ofType('AWS::Lambda::Function')) {
      const variables =
        (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      expect(Object.keys(variables)).not.toContain('LOCAL_FAULTS');
      const filter = Object.entries(variables).filter(([name]) => name.startsWith('IMPORT_'));
      // Every setting travels in its variable; without context, the URI filter's are the defaults.
      expect(Object.fromEntries(filter)).toEqual(
        filter.length === 0
          ? {}
          : {
              IMPORT_ALLOWED_SCHEMES: 'http,https',
              IMPORT_DISALLOWED_SCHEMES: '',
              IMPORT_ALLOWED_HOSTS: '',
              IMPORT_DISALLOWED_HOSTS: '',
              IMPORT_ALLOWED_PORTS: '80,443',
              IMPORT_DISALLOWED_PORTS: '',
              IMPORT_ALLOWED_NETWORKS: '',
            },
      );
    }
  });

  it('limits the workflow functions to the data prefixes of the bucket (and Verify to the location prefix too)', () => {
    type Statement = { Action: string | string[]; Resource: unknown };
    const bucketId = logicalId(stack.data.bucket.node.defaultChild as CfnElement);
    for (const fn of stack.importWorkflow.functions.values()) {
      const role = logicalId(fn.role?.node.defaultChild as CfnElement);
      const statements = ofType('AWS::IAM::Policy')
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${role}"`))
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('s3:')));
      for (const statement of statements) {
        const objects = [...JSON.stringify(statement.Resource).matchAll(/"\/([^"]+)"/g)].map((m) => m[1]);
        expect(JSON.stringify(statement.Resource)).toContain(bucketId);
        // Verify also reads the allowed location prefix (docs/locations.md#configuration); nothing else does.
        const allowed = fn === stack.importWorkflow.functions.get('Verify') ? ['locations/*'] : [];
        for (const prefix of objects) expect(['staging/*', 'images/*', ...allowed]).toContain(prefix);
        // Object actions only on the prefixes; the bucket itself only for listing (404 vs 403).
        const actions = [statement.Action].flat();
        if (objects.length === 0)
          expect(actions.every((a) => a.startsWith('s3:List') || a.startsWith('s3:GetBucket'))).toBe(true);
      }
    }
  });

  /**
   * The S3 requests each workflow function makes (shared/import/steps.ts through
   * shared/storage/object-store.ts), by the IAM action that authorises them and the prefix of the
   * key. A glance-direct `Mark` heads the staged object when the import arrives before the S3
   * trigger recorded it (shared/import/staged-data.ts); `Promote` reads the staged object as the
   * copy's source and writes, heads and, on a failed multipart copy, aborts the image's data key.
   */
  const S3_CALLS: Readonly<Record<string, readonly (readonly [request: string, prefix: string])[]>> = {
    Mark: [['HeadObject', 'staging']],
    Fetch: [
      ['HeadObject', 'staging'],
      ['PutObject', 'staging'],
      ['CreateMultipartUpload', 'staging'],
      ['UploadPart', 'staging'],
      ['CompleteMultipartUpload', 'staging'],
      ['AbortMultipartUpload', 'staging'],
    ],
    Verify: [
      ['HeadObject', 'staging'],
      ['GetObject', 'staging'],
    ],
    Promote: [
      ['HeadObject', 'staging'],
      ['CopyObject:source', 'staging'],
      ['CopyObject', 'images'],
      ['CreateMultipartUpload', 'images'],
      ['UploadPartCopy', 'images'],
      ['CompleteMultipartUpload', 'images'],
      ['AbortMultipartUpload', 'images'],
      ['HeadObject', 'images'],
      ['DeleteObject', 'staging'],
    ],
    Activate: [],
    Complete: [],
    FailImport: [
      ['DeleteObject', 'staging'],
      ['DeleteObject', 'images'],
    ],
    ExecutionEnded: [
      ['DeleteObject', 'staging'],
      ['DeleteObject', 'images'],
    ],
  };
  /** The IAM action each request needs (the S3 service authorization reference). */
  const IAM_ACTION: Readonly<Record<string, string>> = {
    HeadObject: 's3:GetObject',
    GetObject: 's3:GetObject',
    'CopyObject:source': 's3:GetObject',
    PutObject: 's3:PutObject',
    CopyObject: 's3:PutObject',
    CreateMultipartUpload: 's3:PutObject',
    UploadPart: 's3:PutObject',
    UploadPartCopy: 's3:PutObject',
    CompleteMultipartUpload: 's3:PutObject',
    AbortMultipartUpload: 's3:AbortMultipartUpload',
    DeleteObject: 's3:DeleteObject',
  };
  /** A read of a key that may be missing: without unconditional ListBucket, S3 answers 403, not 404. */
  const READS = new Set(['HeadObject', 'GetObject']);
  let statementsOf: ReturnType<typeof roleStatementsIn> | undefined;

  it('names every workflow function in the table of S3 calls', () => {
    expect(Object.keys(S3_CALLS).sort()).toEqual([...stack.importWorkflow.functions.keys()].sort());
  });

  it.each(
    Object.entries(S3_CALLS).flatMap(([name, calls]) =>
      calls.map(([request, prefix]) => [name, request, prefix]),
    ),
  )("%s's role allows the %s it makes on %s/*", (name, request, prefix) => {
    const fn = stack.importWorkflow.functions.get(name);
    if (!fn) throw new Error(`no ${name} function`);
    statementsOf ??= roleStatementsIn(stack);
    const statements = statementsOf(fn);
    const action = IAM_ACTION[request];
    expect(
      statements.some(
        (statement) =>
          statement.Effect === 'Allow' &&
          statement.Condition === undefined &&
          [statement.Action].flat().includes(action ?? '-') &&
          [statement.Resource].flat().some((resource) => JSON.stringify(resource).includes(`"/${prefix}/*"`)),
      ),
      `${name} needs ${action} on ${prefix}/* for ${request}`,
    ).toBe(true);
    // A missing key must answer 404 (S3 gives 403 without ListBucket: infra/local/s3-access.ts).
    if (READS.has(request)) expect(listBucketAllowed(statements)).toBe(true);
  });

  it('sends failed, timed-out and aborted executions to the execution-ended cleanup', () => {
    const rule = ofType('AWS::Events::Rule').find((r) =>
      JSON.stringify(r.Properties.EventPattern ?? {}).includes('aws.states'),
    );
    expect(rule?.Properties.EventPattern).toMatchObject({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: [
          { Ref: logicalId(stack.importWorkflow.stateMachine.node.defaultChild as CfnElement) },
        ],
      },
    });
    const ended = stack.importWorkflow.functions.get('ExecutionEnded');
    expect(JSON.stringify(rule?.Properties.Targets)).toContain(
      logicalId(ended?.node.defaultChild as CfnElement),
    );
    expect(fs.existsSync(join(REPO_ROOT, EXECUTION_ENDED_ENTRY))).toBe(true);
  });
});

describe('run in aws-local-stepfunctions with stub handlers', () => {
  const run = async (handlers: Record<string, (input: never) => unknown>) => {
    const machine = new StateMachine(structuredClone(definition));
    const calls: string[] = [];
    const wrapped = Object.fromEntries(
      [...STEP_NAMES, 'FailImport'].map((name) => [
        name,
        async (input: never) => {
          calls.push(name);
          const handler = handlers[name];
          return (handler ? await handler(input) : { ok: name }) as never;
        },
      ]),
    );
    const execution = machine.run(
      { task_id: 't-1' },
      {
        context: { Execution: { Name: 'stub-execution' } },
        overrides: {
          taskResourceLocalHandlers: wrapped as never,
          retryIntervalOverrides: Object.fromEntries([...STEP_NAMES, 'FailImport'].map((name) => [name, 1])),
        },
      },
    );
    const result = await execution.result.then(
      (output) => ({ status: 'SUCCEEDED', output }) as const,
      (error: Error & { cause?: unknown }) => ({ status: 'FAILED', error }) as const,
    );
    return { calls, result };
  };

  it('runs every step once and stores each result under its key', async () => {
    const { calls, result } = await run({});
    expect(calls).toEqual([...STEP_NAMES]);
    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      output: { task_id: 't-1', mark: { ok: 'Mark' }, complete: { ok: 'Complete' } },
    });
  });

  it('retries TransientError and then carries on', async () => {
    let failures = 2;
    const { calls, result } = await run({
      Verify: () => {
        if (failures-- > 0) throw new TransientError('S3 503');
        return { ok: 'Verify' };
      },
    });
    expect(calls.filter((name) => name === 'Verify')).toHaveLength(3);
    expect(result.status).toBe('SUCCEEDED');
  });

  it('catches an ImportError at once into FailImport, which learns the failed step from the state', async () => {
    let failureInput: { state: Record<string, unknown>; execution: string } | undefined;
    const { calls, result } = await run({
      Promote: () => {
        throw new ImportError('staged data changed');
      },
      FailImport: (input: never) => {
        failureInput = input;
        return { message: 'Import failed at step Promote: staged data changed' };
      },
    });
    expect(calls).toEqual(['Mark', 'Fetch', 'Verify', 'Promote', 'FailImport']);
    expect(failureInput?.execution).toBe('stub-execution');
    expect(failureInput?.state.error).toEqual({ Error: 'ImportError', Cause: 'staged data changed' });
    expect(failedStepOf(failureInput?.state ?? {})).toBe('Promote');
    expect(result.status).toBe('FAILED');
    expect(result.status === 'FAILED' && result.error.message).toContain('Import failed at step Promote');
  });

  it('retries a short step that timed out (Sandbox.Timedout) once, then catches it', async () => {
    const timedOut = () => {
      const error = new Error('Task timed out after 30.00 seconds');
      error.name = 'Sandbox.Timedout';
      throw error;
    };
    let attempts = 0;
    const once = await run({ Activate: () => (attempts++ === 0 ? timedOut() : { ok: 'Activate' }) });
    expect(once.calls.filter((name) => name === 'Activate')).toHaveLength(2);
    expect(once.result.status).toBe('SUCCEEDED');
    const always = await run({ Activate: timedOut });
    expect(always.calls.filter((name) => name === 'Activate')).toHaveLength(2);
    expect(always.calls.at(-1)).toBe('FailImport');
  });

  it('gives up retrying a TransientError after its attempts and fails the import', async () => {
    const { calls } = await run({
      Fetch: () => {
        throw new TransientError('still 503');
      },
    });
    expect(calls.filter((name) => name === 'Fetch')).toHaveLength(1 + 3);
    expect(calls.at(-1)).toBe('FailImport');
  });
});
