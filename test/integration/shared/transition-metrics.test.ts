/**
 * Every transition is counted where it is written (docs/operations.md#metrics): the repositories
 * emit one embedded-metric-format line per successful conditional write, with the trigger and the
 * new status as dimensions, and nothing for a write that lost its race.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  // The test environment turns metrics off; this file reads them.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'GlanceTest';
});

import { randomUUID } from 'node:crypto';
import { ImageConflict } from '#shared/images/repository';
import { newTaskRecord } from '#shared/import/records';
import { recordFinalise, recordImport, recordOverdue } from '#shared/metrics';
import { decideImage, decideTask } from '#shared/status-rules';
import { TaskRepository } from '#shared/tasks/repository';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
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
let db: DynamoFixture;
beforeAll(async () => {
  db = await startDynamo();
});
afterAll(() => db.stop());
const write = process.stdout.write.bind(process.stdout);
beforeAll(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.includes('"_aws"')) {
      for (const line of text.split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Emf);
      return true;
    }
    return write(chunk, ...(rest as []));
  });
});
afterEach(() => {
  lines = [];
});

/** The metrics emitted, as `{name, unit, value, dimensions}`. */
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

describe('transition metrics, written by the repositories', () => {
  it('counts an image transition by trigger and new status, in the configured namespace', async () => {
    const image = queuedImage();
    await db.images.create(image);
    await db.images.transition(image, decideImage(image, 'uploadStart'), { actor: 'test' });
    expect(emitted()).toEqual([
      {
        namespace: 'GlanceTest',
        name: 'ImageTransition',
        unit: 'Count',
        value: 1,
        dimensions: { service: 'serverless-glance', trigger: 'uploadStart', status: 'saving' },
      },
    ]);
  });

  it('counts a kill by its reason, and in all', async () => {
    const image = queuedImage();
    await db.images.create(image);
    const saving = await db.images.transition(image, decideImage(image, 'uploadStart'), { actor: 'test' });
    lines = [];
    await db.images.transition(saving, decideImage(saving, 'uploadReject'), {
      actor: 'test',
      reason: 'bad data',
      failure: 'format',
    });
    expect(emitted().map(({ name, dimensions }) => ({ name, dimensions }))).toEqual([
      {
        name: 'ImageTransition',
        dimensions: { service: 'serverless-glance', trigger: 'uploadReject', status: 'killed' },
      },
      { name: 'ImageKilledByReason', dimensions: { service: 'serverless-glance', reason: 'format' } },
      { name: 'ImageKilled', dimensions: { service: 'serverless-glance' } },
    ]);
  });

  it('counts nothing for a write that lost its race', async () => {
    const image = queuedImage();
    await db.images.create(image);
    await db.images.update(image, { name: 'renamed' });
    lines = [];
    await expect(
      db.images.transition(image, decideImage(image, 'uploadStart'), { actor: 'test' }),
    ).rejects.toBeInstanceOf(ImageConflict);
    expect(emitted()).toEqual([]);
  });

  it('counts task transitions too', async () => {
    const tasks = new TaskRepository(db.doc, db.emulators.tableName);
    const task = newTaskRecord({
      id: randomUUID(),
      type: 'api_image_import',
      input: {},
      owner: 'p',
      imageId: randomUUID(),
      userId: 'u',
      requestId: undefined,
      now: new Date(),
    });
    await tasks.create(task);
    await tasks.transition(task, decideTask(task, 'start'), { timeToLiveHours: 48 });
    expect(emitted().map(({ name, dimensions }) => ({ name, dimensions }))).toEqual([
      {
        name: 'TaskTransition',
        dimensions: { service: 'serverless-glance', trigger: 'start', status: 'processing' },
      },
    ]);
  });
});

describe('durations, bytes and overdue images', () => {
  it('records the finaliser and the import by outcome and method, with units', () => {
    recordFinalise('activated', 120, 4096);
    recordImport('web-download', 5000, 8192);
    expect(emitted().map(({ name, unit, value, dimensions }) => [name, unit, value, dimensions])).toEqual([
      ['FinaliseDuration', 'Milliseconds', 120, { service: 'serverless-glance', outcome: 'activated' }],
      ['FinaliseBytes', 'Bytes', 4096, { service: 'serverless-glance', outcome: 'activated' }],
      ['ImportDuration', 'Milliseconds', 5000, { service: 'serverless-glance', method: 'web-download' }],
      ['ImportBytes', 'Bytes', 8192, { service: 'serverless-glance', method: 'web-download' }],
    ]);
  });

  it('records overdue images by what they wait for, and in all, zeros included', () => {
    recordOverdue({ uploads: 2, imports: 0 });
    expect(emitted().map(({ name, value, dimensions }) => [name, value, dimensions])).toEqual([
      ['OverdueImages', 2, { service: 'serverless-glance', waitingFor: 'upload' }],
      ['OverdueImages', 0, { service: 'serverless-glance', waitingFor: 'import' }],
      ['OverdueImages', 2, { service: 'serverless-glance' }],
    ]);
  });
});
