/**
 * The service's metrics (docs/operations.md#metrics), read back from the embedded-metric-format
 * lines Powertools writes. Transitions are counted where they are published, from the table's
 * stream: exactly what was written, counted once its events are out.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  // The test environment turns metrics off; this file reads them.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'GlanceTest';
});

import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { handler } from '#functions/events/publish-transitions';
import type { HistoryEntry } from '#shared/images/model';
import { recordFinalise, recordImport, recordOverdue } from '#shared/metrics';
import { queuedImage } from '#test/helpers/images';

interface Emf {
  readonly _aws: {
    readonly CloudWatchMetrics: {
      readonly Namespace: string;
      readonly Dimensions: string[][];
      readonly Metrics: { Name: string; Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

let lines: Emf[] = [];
const write = process.stdout.write.bind(process.stdout);
beforeAll(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = String(chunk);
    if (!text.includes('"_aws"')) return write(chunk, ...(rest as []));
    for (const line of text.split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Emf);
    return true;
  });
});
afterEach(() => {
  lines = [];
});

/** What was emitted: `[name, value, dimensions]`, plus namespace and unit where a test asks. */
const emitted = () =>
  lines.flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.map((metric) => ({
        namespace: directive.Namespace,
        name: metric.Name,
        unit: metric.Unit,
        value: line[metric.Name],
        dimensions: Object.fromEntries((directive.Dimensions[0] ?? []).map((name) => [name, line[name]])),
      })),
    ),
  );
const named = () => emitted().map(({ name, dimensions }) => [name, dimensions]);
const SERVICE = { service: 'serverless-glance' };

const image = queuedImage();
/** The image item after `history`: its outbox holds the latest entry, numbered by its version (decision B1). */
const item = (history: HistoryEntry[], status: string) => ({
  pk: `IMAGE#${image.id}`,
  sk: 'IMAGE',
  ...image,
  status,
  version: history.length,
  outbox: [{ ...history[history.length - 1], version: history.length }],
});
const at = '2030-01-01T00:00:00.000Z';
const entry = (from: string | null, to: string, trigger: string, failure?: string): HistoryEntry =>
  ({ from, to, trigger, actor: 'system:test', at, ...(failure ? { failure } : {}) }) as HistoryEntry;
const created = entry(null, 'queued', 'create');
const saving = entry('queued', 'saving', 'uploadStart');

let sequence = 0;
const record = (newImage: object, oldImage?: object) => ({
  eventName: oldImage ? 'MODIFY' : 'INSERT',
  dynamodb: {
    SequenceNumber: String(++sequence),
    NewImage: marshall(newImage, { removeUndefinedValues: true }),
    ...(oldImage ? { OldImage: marshall(oldImage, { removeUndefinedValues: true }) } : {}),
  },
});
const stream = (...records: ReturnType<typeof record>[]) =>
  ({ Records: records }) as unknown as DynamoDBStreamEvent;
const publishing = (failed = 0) =>
  vi.spyOn(EventBridgeClient.prototype, 'send').mockResolvedValue({ FailedEntryCount: failed } as never);

describe('transitions, counted where they are published', () => {
  it('counts each image transition by trigger and new status, creation included, in the namespace', async () => {
    publishing();
    await handler(
      stream(
        record(item([created], 'queued')),
        record(item([created, saving], 'saving'), item([created], 'queued')),
      ),
    );
    expect(emitted()).toEqual([
      {
        namespace: 'GlanceTest',
        name: 'ImageTransition',
        unit: 'Count',
        value: 1,
        dimensions: { ...SERVICE, trigger: 'create', status: 'queued' },
      },
      {
        namespace: 'GlanceTest',
        name: 'ImageTransition',
        unit: 'Count',
        value: 1,
        dimensions: { ...SERVICE, trigger: 'uploadStart', status: 'saving' },
      },
    ]);
  });

  it('counts a kill by its reason and in all, and an accepted upload as activated', async () => {
    publishing();
    const killed = entry('saving', 'killed', 'uploadReject', 'format');
    const active = entry('saving', 'active', 'uploadFinish');
    await handler(
      stream(
        record(item([created, saving, killed], 'killed'), item([created, saving], 'saving')),
        record(item([created, saving, active], 'active'), item([created, saving], 'saving')),
      ),
    );
    expect(named()).toEqual([
      ['ImageTransition', { ...SERVICE, trigger: 'uploadReject', status: 'killed' }],
      ['ImageKilledByReason', { ...SERVICE, reason: 'format' }],
      ['ImageKilled', SERVICE],
      ['ImageTransition', { ...SERVICE, trigger: 'uploadFinish', status: 'active' }],
      ['ImageActivated', SERVICE],
    ]);
  });

  it('does not count a reactivation as accepted data, nor an edit as a transition', async () => {
    publishing();
    const off = entry('active', 'deactivated', 'deactivate');
    const on = entry('deactivated', 'active', 'reactivate');
    const before = item([created, off], 'deactivated');
    await handler(
      stream(
        record(item([created, off, on], 'active'), before),
        record({ ...before, name: 'renamed' }, before),
      ),
    );
    expect(named()).toEqual([['ImageTransition', { ...SERVICE, trigger: 'reactivate', status: 'active' }]]);
  });

  it('counts task transitions by the trigger their statuses stand for', async () => {
    publishing();
    const task = { pk: 'TASK#t1', sk: 'TASK', id: 't1', type: 'api_image_import', updated_at: at };
    await handler(
      stream(
        record({ ...task, status: 'pending' }),
        record({ ...task, status: 'processing' }, { ...task, status: 'pending' }),
        record({ ...task, status: 'failure' }, { ...task, status: 'pending' }),
      ),
    );
    expect(named()).toEqual([
      ['TaskTransition', { ...SERVICE, trigger: 'create', status: 'pending' }],
      ['TaskTransition', { ...SERVICE, trigger: 'start', status: 'processing' }],
      ['TaskTransition', { ...SERVICE, trigger: 'fail', status: 'failure' }],
    ]);
  });

  it('counts nothing for a record whose events were not published (it is counted on the retry)', async () => {
    publishing(1);
    expect(await handler(stream(record(item([created], 'queued'))))).toEqual({
      batchItemFailures: [{ itemIdentifier: String(sequence) }],
    });
    expect(emitted()).toEqual([]);
  });
});

describe('durations, bytes and overdue images', () => {
  it('records the finaliser and the import by outcome and method, with units', () => {
    recordFinalise('activated', 120, 4096);
    recordImport('web-download', 5000, 8192);
    expect(emitted().map(({ name, unit, value, dimensions }) => [name, unit, value, dimensions])).toEqual([
      ['FinaliseDuration', 'Milliseconds', 120, { ...SERVICE, outcome: 'activated' }],
      ['FinaliseBytes', 'Bytes', 4096, { ...SERVICE, outcome: 'activated' }],
      ['ImportDuration', 'Milliseconds', 5000, { ...SERVICE, method: 'web-download' }],
      ['ImportBytes', 'Bytes', 8192, { ...SERVICE, method: 'web-download' }],
    ]);
  });

  it('records overdue images by what they wait for, and in all, zeros included', () => {
    recordOverdue({ uploads: 2, imports: 0 });
    expect(emitted().map(({ name, value, dimensions }) => [name, value, dimensions])).toEqual([
      ['OverdueImages', 2, { ...SERVICE, waitingFor: 'upload' }],
      ['OverdueImages', 0, { ...SERVICE, waitingFor: 'import' }],
      ['OverdueImages', 2, SERVICE],
    ]);
  });
});
