import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '#infra/local/step-functions/history';
import { failureInput, RESTART_ERROR } from '#infra/local/step-functions/runner';
import { ExecutionStore, RETENTION_SECONDS } from '#infra/local/step-functions/store';

let directory: string;
let store: ExecutionStore;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'sfn-store-'));
  store = new ExecutionStore(directory);
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const event = (id: number, type: string, details: Record<string, unknown> = {}): HistoryEvent => ({
  id,
  previousEventId: id - 1,
  timestamp: 1000 + id,
  type,
  ...details,
});

describe('ExecutionStore', () => {
  it('reads back a running execution, an ended one and whether its end was reported', () => {
    store.started('running', '{"task_id":"a"}', 1000);
    store.event('running', event(1, 'ExecutionStarted'));
    store.started('ended', '{"task_id":"b"}', 900);
    store.event('ended', event(1, 'ExecutionStarted'));
    store.ended('ended', { status: 'FAILED', stopDate: 950, error: 'ImportError', cause: 'x' });
    store.started('reported', '{}', 800);
    store.ended('reported', { status: 'ABORTED', stopDate: 850 });
    store.reported('reported');
    store.started('succeeded', '{}', 700);
    store.ended('succeeded', { status: 'SUCCEEDED', stopDate: 750, output: '{}' });

    const loaded = store.load(2000);
    expect(loaded.map((execution) => execution.name)).toEqual(['succeeded', 'reported', 'ended', 'running']);
    const [succeeded, reported, ended, running] = loaded;
    expect(running).toMatchObject({ input: '{"task_id":"a"}', startDate: 1000, reported: false });
    expect(running?.end).toBeUndefined();
    expect(running?.events.map((e) => e.type)).toEqual(['ExecutionStarted']);
    expect(ended).toMatchObject({
      end: { status: 'FAILED', error: 'ImportError', cause: 'x' },
      reported: false,
    });
    expect(reported?.reported).toBe(true);
    // A succeeded execution needs no cleanup.
    expect(succeeded?.reported).toBe(true);
  });

  it('skips a line torn by a crash and files without a start', () => {
    store.started('torn', '{}', 1000);
    store.event('torn', event(1, 'ExecutionStarted'));
    appendFileSync(join(directory, 'torn.jsonl'), '{"kind":"event","event":{"id":2,"ty');
    appendFileSync(join(directory, 'headless.jsonl'), '{"kind":"reported"}\n');
    const [torn, ...others] = store.load(2000);
    expect(torn?.events).toHaveLength(1);
    expect(others).toEqual([]);
  });

  it('forgets executions closed more than 90 days ago, as Step Functions does', () => {
    const now = 10 * RETENTION_SECONDS;
    store.started('old', '{}', 1);
    store.ended('old', { status: 'FAILED', stopDate: now - RETENTION_SECONDS - 1 });
    store.started('recent', '{}', 2);
    store.ended('recent', { status: 'FAILED', stopDate: now - RETENTION_SECONDS + 1 });
    store.started('still-running', '{}', 0);
    expect(store.load(now).map((execution) => execution.name)).toEqual(['still-running', 'recent']);
    expect(readdirSync(directory).sort()).toEqual(['recent.jsonl', 'still-running.jsonl']);
  });
});

describe('failureInput', () => {
  const entered = (id: number, name: string, input: object) =>
    event(id, 'TaskStateEntered', { stateEnteredEventDetails: { name, input: JSON.stringify(input) } });
  const exited = (id: number, name: string, output: object) =>
    event(id, 'TaskStateExited', { stateExitedEventDetails: { name, output: JSON.stringify(output) } });
  const restartError = { Error: RESTART_ERROR, Cause: expect.stringContaining('stopped') };

  it.each([
    ['before any state', [event(1, 'ExecutionStarted')], { task_id: 't', error: restartError }],
    [
      'during a step: the state it was entered with',
      [
        entered(2, 'Mark', { task_id: 't' }),
        exited(3, 'Mark', { task_id: 't', mark: { m: 1 } }),
        entered(4, 'Fetch', { task_id: 't', mark: { m: 1 } }),
      ],
      { task_id: 't', mark: { m: 1 }, error: restartError },
    ],
    [
      'between two steps: the state the last one left',
      [entered(2, 'Mark', { task_id: 't' }), exited(3, 'Mark', { task_id: 't', mark: { m: 1 } })],
      { task_id: 't', mark: { m: 1 }, error: restartError },
    ],
    [
      'during the failure branch: its own input, original error kept',
      [entered(5, 'FailImport', { task_id: 't', error: { Error: 'ImportError', Cause: 'HTTP 404' } })],
      { task_id: 't', error: { Error: 'ImportError', Cause: 'HTTP 404' } },
    ],
  ])('%s', (_case, events, expected) => {
    expect(failureInput({ input: '{"task_id":"t"}', events })).toEqual(expected);
  });

  it('still gives the failure branch an error when the input is not JSON', () => {
    expect(failureInput({ input: 'not json', events: [] })).toEqual({ error: restartError });
  });
});
