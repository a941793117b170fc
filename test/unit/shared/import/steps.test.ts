import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { BadRequest } from '#shared/errors';
import { ImageConflict } from '#shared/images/repository';
import { classify, ImportError, isTransient, TransientError } from '#shared/import/errors';
import { checkFault, clearFaults, injectFault } from '#shared/import/faults';
import {
  EXECUTION_TIMEOUT_SECONDS,
  FAILURE_STEP,
  failedStepOf,
  STEPS,
  stateTimeoutSeconds,
  worstCaseStateSeconds,
} from '#shared/import/state-machine';
import { failureMessage } from '#shared/import/steps';

describe('failure messages', () => {
  it('name the step and the cause of an ImportError', () => {
    expect(
      failureMessage('Fetch', { Error: 'ImportError', Cause: 'http://x/y answered HTTP 404 Not Found.' }),
    ).toBe('Import failed at step Fetch: http://x/y answered HTTP 404 Not Found.');
  });

  it('read the Lambda error JSON Step Functions puts in Cause', () => {
    const cause = JSON.stringify({
      errorType: 'ImportError',
      errorMessage: 'staged data missing',
      trace: [],
    });
    expect(failureMessage('Verify', { Error: 'ImportError', Cause: cause })).toBe(
      'Import failed at step Verify: staged data missing',
    );
  });

  it('say when transient errors outlived their retries, and explain timeouts and other errors', () => {
    expect(failureMessage('Promote', { Error: 'TransientError', Cause: 'S3 503' })).toBe(
      'Import failed at step Promote: S3 503 (still failing after retries)',
    );
    expect(failureMessage('Fetch', { Error: 'States.Timeout', Cause: '' })).toBe(
      'Import failed at step Fetch: the step did not finish in time (States.Timeout).',
    );
    expect(
      failureMessage('Verify', {
        Error: 'Sandbox.Timedout',
        Cause: '{"errorType":"Sandbox.Timedout","errorMessage":"Task timed out after 900.00 seconds"}',
      }),
    ).toBe('Import failed at step Verify: the step did not finish in time (Sandbox.Timedout).');
    expect(failureMessage('Mark', { Error: 'Lambda.ServiceException', Cause: 'boom' })).toBe(
      'Import failed at step Mark: Lambda.ServiceException: boom',
    );
    expect(failureMessage(undefined, undefined)).toBe('Import failed: UnknownError');
  });

  it('are bounded', () => {
    expect(failureMessage('Fetch', { Error: 'ImportError', Cause: 'x'.repeat(5000) }).length).toBe(2000);
  });
});

describe('the failed step', () => {
  it('is the first step without a result in the execution state', () => {
    expect(failedStepOf({ task_id: 't' })).toBe('Mark');
    expect(failedStepOf({ task_id: 't', mark: {}, fetch: {} })).toBe('Verify');
    expect(failedStepOf({ task_id: 't', mark: {}, fetch: {}, verify: {}, promote: {}, activate: {} })).toBe(
      'Complete',
    );
  });
});

describe('timeouts', () => {
  it('give every state a little more time than its function', () => {
    for (const step of [...STEPS, FAILURE_STEP]) {
      expect(stateTimeoutSeconds(step)).toBeGreaterThan(step.lambdaTimeoutSeconds);
      expect(step.lambdaTimeoutSeconds).toBeLessThanOrEqual(900);
    }
  });

  it('let the execution outlast every retry of every step and of the failure branch', () => {
    const worst = [...STEPS, FAILURE_STEP].map(worstCaseStateSeconds).reduce((a, b) => a + b, 0);
    expect(EXECUTION_TIMEOUT_SECONDS).toBeGreaterThan(worst);
    // Mark: 1 + 4 + 4 + 1 attempts of 40 s, plus the waits 2+4+8+16, 1+2+4+8, 1.
    expect(worstCaseStateSeconds(STEPS[0] as (typeof STEPS)[number])).toBe(10 * 40 + 30 + 15 + 1);
  });
});

describe('error classification', () => {
  it('keeps our two errors', () => {
    const transient = new TransientError('t');
    const permanent = new ImportError('p');
    expect(classify(transient)).toBe(transient);
    expect(classify(permanent)).toBe(permanent);
  });

  it('retries lost races, throttling, 5xx and network errors', () => {
    expect(classify(new ImageConflict('lost', undefined))).toBeInstanceOf(TransientError);
    expect(classify(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }))).toBeInstanceOf(
      TransientError,
    );
    expect(
      isTransient(Object.assign(new Error('slow'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } })),
    ).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { name: 'ThrottlingException', $metadata: {} }))).toBe(
      true,
    );
    expect(isTransient(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { $retryable: {} }))).toBe(true);
  });

  it('fails for good on refusals, with the service error named', () => {
    const denied = classify(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
    );
    expect(denied).toBeInstanceOf(ImportError);
    expect(denied.message).toBe('AccessDenied: Access Denied');
    expect(classify(new BadRequest('formats missing'))).toBeInstanceOf(ImportError);
    expect(classify(new Error('plain'))).toBeInstanceOf(ImportError);
    const bug = new TypeError('x is undefined');
    expect(classify(bug)).toBe(bug);
  });
});

describe('fault injection', () => {
  it('does nothing without LOCAL_FAULTS=1', async () => {
    const saved = process.env.LOCAL_FAULTS;
    delete process.env.LOCAL_FAULTS;
    try {
      injectFault({ step: 'Fetch', kind: 'permanent', imageId: 'i' });
      await expect(checkFault('Fetch', 'end', 'i')).resolves.toBeUndefined();
      process.env.LOCAL_FAULTS = '1';
      await expect(checkFault('Fetch', 'end', 'other')).resolves.toBeUndefined();
      await expect(checkFault('Fetch', 'start', 'i')).resolves.toBeUndefined();
      await expect(checkFault('Fetch', 'end', 'i')).rejects.toThrow(ImportError);
      await expect(checkFault('Fetch', 'end', 'i')).resolves.toBeUndefined();
    } finally {
      clearFaults();
      if (saved === undefined) delete process.env.LOCAL_FAULTS;
      else process.env.LOCAL_FAULTS = saved;
    }
  });
});
