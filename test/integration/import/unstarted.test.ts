/**
 * A task whose execution never started (the API died between writing the pending task and
 * StartExecution) does not stay pending forever (docs/import-workflow.md#imports-that-never-started): the sweeper
 * fails it through the failure branch's cleanup once it has been pending for
 * UNSTARTED_TASK_SECONDS; the image keeps its staged data and can be imported again.
 */
import { describe, expect, it } from 'vitest';
import { UNSTARTED_TASK_SECONDS } from '#shared/import/state-machine';
import {
  createImage,
  expectStatus,
  importImage,
  plantPendingImport,
  randomBytesOf,
  showImage,
  stageDirect,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const { stack } = useImportStack({ routes: {} });

const sweepAt = async (secondsFromNow: number) => {
  const { handler } = await import('#functions/uploads/sweep');
  return handler({ time: new Date(Date.now() + secondsFromNow * 1000).toISOString() });
};

const taskOf = async (id: string) => (await stack.api('GET', `/v2/tasks/${id}`, { token: stack.admin })).json;

describe('tasks whose execution never started', () => {
  it('are failed by the sweeper after their deadline, lock released, staged data kept', {
    timeout: 120_000,
  }, async () => {
    const created = await createImage(stack);
    await stageDirect(stack, created.id, randomBytesOf(5000));
    const image = await stack.images.get(created.id);
    if (!image) throw new Error('no image');
    const taskId = await plantPendingImport(stack, image);

    // Before the deadline it is left alone: its execution may still be starting.
    expect((await sweepAt(UNSTARTED_TASK_SECONDS - 60)).unstarted).toEqual([]);
    expect((await taskOf(taskId)).status).toBe('pending');

    expect((await sweepAt(UNSTARTED_TASK_SECONDS + 60)).unstarted).toEqual([taskId]);
    const task = await taskOf(taskId);
    expect(task).toMatchObject({ status: 'failure', message: expect.stringMatching(/never started/) });
    const after = await showImage(stack, created.id);
    expect(after.status).toBe('uploading');
    expect(after.os_glance_import_task).toBeUndefined();

    // A second run finds nothing; the user imports again and it works.
    expect((await sweepAt(UNSTARTED_TASK_SECONDS + 60)).unstarted).toEqual([]);
    expectStatus(await importImage(stack, created.id, { method: { name: 'glance-direct' } }), 202);
    expect((await waitForImport(stack, created.id)).task.status).toBe('success');
    expect((await showImage(stack, created.id)).status).toBe('active');
  });

  it('never touch a task an execution has taken', async () => {
    const created = await createImage(stack);
    await stageDirect(stack, created.id, randomBytesOf(3000));
    expectStatus(await importImage(stack, created.id, { method: { name: 'glance-direct' } }), 202);
    const { task } = await waitForImport(stack, created.id);
    expect((await sweepAt(UNSTARTED_TASK_SECONDS * 10)).unstarted).not.toContain(task.id);
    expect((await taskOf(task.id)).status).toBe('success');
  });
});
