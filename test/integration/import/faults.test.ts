/**
 * Fault injection for every workflow step (shared/import/faults.ts, honoured only with
 * LOCAL_FAULTS=1): a transient failure is retried and the import succeeds; a permanent one ends
 * in the failure branch (task failure with a message naming the step, image killed, its data
 * removed, lock free). Faults fire after the step did its work by default, so retries replay a
 * step whose effects already happened.
 */
import { describe, expect, it, vi } from 'vitest';
import { clearFaults, injectFault } from '#shared/import/faults';
import { STEP_NAMES } from '#shared/import/state-machine';
import {
  createImage,
  historyOf,
  imageTasks,
  importImage,
  keysUnder,
  randomBytesOf,
  serveBytes,
  sha512,
  showImage,
  stageDirect,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const data = randomBytesOf(50_000);
const { stack, files } = useImportStack({
  routes: { '/disk.img': serveBytes(data) },
  afterEach: clearFaults,
});

/** A staged image (glance-direct) or a queued one importing from the file server (web-download). */
const startImport = async (method: 'glance-direct' | 'web-download', arm: (imageId: string) => void) => {
  const image = await createImage(stack);
  if (method === 'glance-direct') await stageDirect(stack, image.id, data);
  arm(image.id);
  const body =
    method === 'glance-direct'
      ? { method: { name: 'glance-direct' } }
      : { method: { name: 'web-download', uri: files.url('/disk.img') } };
  expect((await importImage(stack, image.id, body)).status).toBe(202);
  return { imageId: image.id, ...(await waitForImport(stack, image.id)) };
};

const failedAttempts = (events: Array<Record<string, unknown>>) =>
  events.filter((event) => event.type === 'LambdaFunctionFailed').length;

describe.each(STEP_NAMES.map((step) => [step]))('%s', (step) => {
  const method = step === 'Fetch' ? 'web-download' : 'glance-direct';

  it(`retries a transient failure and then succeeds (${method})`, async () => {
    const { imageId, task, execution } = await startImport(method, (imageId) =>
      injectFault({ step, kind: 'transient', imageId, times: 2 }),
    );
    expect(execution.status).toBe('SUCCEEDED');
    expect(failedAttempts(execution.events)).toBe(2);
    expect(task).toMatchObject({ status: 'success', result: { image_id: imageId } });
    const image = await showImage(stack, imageId);
    expect(image).toMatchObject({ status: 'active', size: data.byteLength, os_hash_value: sha512(data) });
    expect(image.os_glance_import_task).toBeUndefined();
    expect(await keysUnder(stack, `staging/${imageId}/`)).toEqual([]);
    expect(await keysUnder(stack, `images/${imageId}/`)).toEqual([`images/${imageId}/${task.id}`]);
  });

  it.each(['start', 'end'] as const)(
    `ends a permanent failure at the %s of the step in the failure branch (${method})`,
    async (at) => {
      const { imageId, task, execution } = await startImport(method, (imageId) =>
        injectFault({ step, kind: 'permanent', imageId, at }),
      );
      const message = `Import failed at step ${step}: Injected permanent fault in ${step} (${at}).`;
      expect(execution.status).toBe('FAILED');
      expect(execution).toMatchObject({ error: 'ImportError', cause: message });
      const image = await showImage(stack, imageId);
      expect(image.os_glance_import_task).toBeUndefined();
      if (step === 'Mark' && at === 'start') {
        // The import never reached the image: it keeps its status and staged data, lock released.
        expect(task).toMatchObject({ status: 'failure', message });
        expect(image).toMatchObject({ status: 'uploading', size: data.byteLength });
        expect(await keysUnder(stack, `staging/${imageId}/`)).toHaveLength(1);
        return;
      }
      expect(await keysUnder(stack, `staging/${imageId}/`)).toEqual([]);
      if (step === 'Complete' && at === 'end') {
        // The task was completed before the fault (a lost response): the import did succeed, and
        // the failure branch finds nothing to undo.
        expect(task).toMatchObject({ status: 'success', result: { image_id: imageId } });
        expect(image).toMatchObject({ status: 'active' });
      } else if (step === 'Complete' || (step === 'Activate' && at === 'end')) {
        // The image was already activated with verified data: D1 kills only untrusted data, and the
        // status rules have no active → killed. The task fails with the reason; the data stays.
        expect(task).toMatchObject({ status: 'failure', message });
        expect(image).toMatchObject({ status: 'active', os_hash_value: sha512(data) });
        expect(await keysUnder(stack, `images/${imageId}/`)).toEqual([`images/${imageId}/${task.id}`]);
      } else {
        expect(task).toMatchObject({ status: 'failure', message });
        expect(image).toMatchObject({ status: 'killed', os_glance_failure_reason: message });
        expect((await historyOf(stack, imageId)).at(-1)).toBe('killed');
        expect(await keysUnder(stack, `images/${imageId}/`)).toEqual([]);
      }
    },
  );
});

describe('before the image is touched', () => {
  it('leaves the image and its staged data as they were, lock released, when Mark fails at its start', async () => {
    const { imageId, task } = await startImport('glance-direct', (imageId) =>
      injectFault({ step: 'Mark', kind: 'permanent', imageId, at: 'start' }),
    );
    expect(task).toMatchObject({
      status: 'failure',
      message: expect.stringMatching(/^Import failed at step Mark/),
    });
    const image = await showImage(stack, imageId);
    expect(image).toMatchObject({ status: 'uploading', size: data.byteLength });
    expect(image.os_glance_import_task).toBeUndefined();
    expect(await keysUnder(stack, `staging/${imageId}/`)).toHaveLength(1);
    // The user can simply import again.
    expect((await importImage(stack, imageId, { method: { name: 'glance-direct' } })).status).toBe(202);
    const again = await waitForImport(stack, imageId);
    expect(again.task.status).toBe('success');
    expect(await imageTasks(stack, imageId)).toHaveLength(2);
  });
});

describe('the failure branch', () => {
  it('retries its own transient failures', async () => {
    const { imageId, task, execution } = await startImport('glance-direct', (imageId) => {
      injectFault({ step: 'Verify', kind: 'permanent', imageId });
      injectFault({ step: 'FailImport', kind: 'transient', imageId, times: 3 });
    });
    expect(execution.status).toBe('FAILED');
    expect(task).toMatchObject({
      status: 'failure',
      message: expect.stringMatching(/^Import failed at step Verify/),
    });
    expect(await showImage(stack, imageId)).toMatchObject({ status: 'killed' });
  });

  it('is backed by the execution-ended cleanup when it fails for good', async () => {
    const { imageId, task, execution } = await startImport('glance-direct', (imageId) => {
      injectFault({ step: 'Promote', kind: 'permanent', imageId });
      injectFault({ step: 'FailImport', kind: 'permanent', imageId, at: 'start' });
    });
    expect(execution.status).toBe('FAILED');
    expect(task.status).toBe('failure');
    expect(task.message).toMatch(/^Import failed: the workflow execution .* ended with status FAILED/);
    expect(await showImage(stack, imageId)).toMatchObject({ status: 'killed' });
    expect(await keysUnder(stack, `staging/${imageId}/`)).toEqual([]);
    expect(await keysUnder(stack, `images/${imageId}/`)).toEqual([]);
  });

  it('cleans up an execution stopped from outside (ABORTED)', async () => {
    const image = await createImage(stack);
    await stageDirect(stack, image.id, data);
    // Hold the execution in Verify long enough to stop it, as "Stop execution" in the console does.
    injectFault({ step: 'Verify', kind: 'delay', imageId: image.id, at: 'start', delayMs: 1500 });
    expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
    const [pending] = await imageTasks(stack, image.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    stack.stepFunctions.execution(pending?.id ?? '')?.abort('Stopped', 'stopped by the test');
    const { task, execution } = await waitForImport(stack, image.id);
    expect(execution.status).toBe('ABORTED');
    expect(task).toMatchObject({
      status: 'failure',
      message: expect.stringMatching(/ended with status ABORTED/),
    });
    expect(await showImage(stack, image.id)).toMatchObject({ status: 'killed' });
    // The stopped step finishes its (read-only) work in the background; let it, before the next test.
    await new Promise((resolve) => setTimeout(resolve, 1500));
  });
});

describe('the image deleted during its import', () => {
  it("fails the task; the tombstone is left alone and the import's objects are removed", async () => {
    const image = await createImage(stack);
    await stageDirect(stack, image.id, data);
    // Promote is held long enough for the DELETE to land while the execution is in it, however
    // slowly the steps before it ran: the DELETE waits until the execution has entered Promote.
    injectFault({ step: 'Promote', kind: 'delay', imageId: image.id, at: 'start', delayMs: 3000 });
    expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
    const [task] = await imageTasks(stack, image.id);
    await vi.waitFor(
      () => {
        const events = stack.stepFunctions.execution(task?.id ?? '')?.events ?? [];
        const entered = events.filter((event) => event.type === 'TaskStateEntered');
        expect(JSON.stringify(entered.at(-1))).toContain('"Promote"');
      },
      { timeout: 30_000, interval: 20 },
    );
    expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token: stack.owner })).status).toBe(204);
    const execution = await stack.stepFunctions.waitFor(task?.id ?? '');
    expect(execution.status).toBe('FAILED');
    const shown = (await stack.api('GET', `/v2/tasks/${task?.id}`, { token: stack.admin })).json;
    expect(shown).toMatchObject({
      status: 'failure',
      message: expect.stringMatching(/^Import failed at step Promote: /),
    });
    expect((await stack.images.get(image.id))?.status).toBe('deleted');
    expect(await keysUnder(stack, `staging/${image.id}/`)).toEqual([]);
    expect(await keysUnder(stack, `images/${image.id}/`)).toEqual([]);
  });
});

describe('replays (console re-runs)', () => {
  it('a re-run of a finished task is a clean failure that changes nothing', async () => {
    const { imageId, task } = await startImport('glance-direct', () => {});
    expect(task.status).toBe('success');
    const rerun = await stack.stepFunctions.start(undefined, JSON.stringify({ task_id: task.id }));
    await rerun.done;
    expect(rerun.status).toBe('FAILED');
    expect(rerun.cause).toBe(
      `Import failed at step Mark: Task ${task.id} is already 'success'; there is nothing to run.`,
    );
    const shown = await stack.api('GET', `/v2/tasks/${task.id}`, { token: stack.admin });
    expect(shown.json).toMatchObject({ status: 'success', result: { image_id: imageId }, message: '' });
    expect(await showImage(stack, imageId)).toMatchObject({ status: 'active', os_hash_value: sha512(data) });
    expect(await keysUnder(stack, `images/${imageId}/`)).toEqual([`images/${imageId}/${task.id}`]);
  });

  it('a re-run after the image was deleted with delayed delete leaves its data to the scrubber', async () => {
    const { imageId, task } = await startImport('glance-direct', () => {});
    const { applyTrigger } = await import('#shared/images/actions');
    const active = await stack.images.get(imageId);
    if (!active) throw new Error('no image');
    await applyTrigger(stack.images, active, 'delayedDelete', { actor: 'test' });
    const rerun = await stack.stepFunctions.start(undefined, JSON.stringify({ task_id: task.id }));
    await rerun.done;
    expect(rerun.status).toBe('FAILED');
    expect((await stack.images.get(imageId))?.status).toBe('pending_delete');
    expect(await keysUnder(stack, `images/${imageId}/`)).toEqual([`images/${imageId}/${task.id}`]);
  });

  it('a re-run while the task is still running is refused and leaves the running import alone', async () => {
    const image = await createImage(stack);
    await stageDirect(stack, image.id, data);
    injectFault({ step: 'Verify', kind: 'delay', imageId: image.id, at: 'start', delayMs: 800 });
    expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
    const [task] = await imageTasks(stack, image.id);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const rerun = await stack.stepFunctions.start(undefined, JSON.stringify({ task_id: task?.id }));
    await rerun.done;
    expect(rerun.status).toBe('FAILED');
    expect(rerun.cause).toBe(
      `Import failed at step Mark: Task ${task?.id} is being run by execution ${task?.id}; this execution leaves it alone.`,
    );
    const { task: done } = await waitForImport(stack, image.id);
    expect(done).toMatchObject({ status: 'success', result: { image_id: image.id } });
    expect(await showImage(stack, image.id)).toMatchObject({ status: 'active', os_hash_value: sha512(data) });
  });

  it('an input that names no task fails cleanly', async () => {
    const rerun = await stack.stepFunctions.start(undefined, JSON.stringify({ nope: true }));
    await rerun.done;
    expect(rerun.status).toBe('FAILED');
    expect(rerun.cause).toMatch(/The execution input must be \{"task_id": "<task id>"\}/);
  });
});
