/**
 * What an import must find before it moves anything: glance-direct needs the staged data to have
 * arrived (a presigned stage still in flight is `uploading` too), the data must match its declared
 * disk format (the inspection every path makes, docs/image-formats.md; the whole corpus on every
 * path is in image-formats.test.ts), and the pending-upload index entry (gsi3) never outlives the
 * import.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { imageCorpus, readImage } from '#test/helpers/image-corpus';
import {
  createImage,
  historyOf,
  imageTasks,
  importImage,
  keysUnder,
  plantPendingImport,
  randomBytesOf,
  serveBytes,
  showImage,
  stageDirect,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const data = randomBytesOf(20_000);

const { stack, files } = useImportStack({
  routes: { '/not-qcow2.img': serveBytes(data) },
});

/** Presigns a stage upload (`uploading`, `upload` set, `data_key` null) and sends no data. */
const presignStage = async (imageId: string) => {
  const response = await stack.api('POST', `/v2/images/${imageId}/stage/presign`, {
    token: stack.owner,
    body: { size: data.byteLength },
  });
  expect(response.status).toBeLessThan(300);
  const image = await stack.images.get(imageId);
  expect(image).toMatchObject({ status: 'uploading', data_key: null, upload: { kind: 'stage' } });
  return image;
};

/** Image ids in the pending-upload index (gsi3), whatever their deadline. */
const pendingUploadIds = async () => {
  const ids: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await stack.images.expiredUploads({ before: '9999', limit: 500, startKey });
    ids.push(...page.ids);
    startKey = page.lastKey;
  } while (startKey);
  return ids;
};

describe('glance-direct while the staged upload is still in flight', () => {
  it('is refused with 409 at the API: no task, image still uploading with its upload', async () => {
    const image = await createImage(stack);
    await presignStage(image.id);
    const response = await importImage(stack, image.id, { method: { name: 'glance-direct' } });
    expect(response.status).toBe(409);
    expect(response.json.error.message).toBe(
      `Image ${image.id} has no staged data yet; finish the upload first.`,
    );
    expect(await imageTasks(stack, image.id)).toEqual([]);
    const after = await stack.images.get(image.id);
    expect(after).toMatchObject({ status: 'uploading', data_key: null, upload: { kind: 'stage' } });
    expect(after?.properties.os_glance_import_task).toBeUndefined();
    expect(await pendingUploadIds()).toContain(image.id);
  });

  it('is refused again by Mark (a task that got past the API): lock released, upload left alone', async () => {
    const created = await createImage(stack);
    const image = await presignStage(created.id);
    if (!image) throw new Error('no image');
    // What an import accepted before the upload was presigned would leave: lock and pending task.
    const taskId = await plantPendingImport(stack, image);
    const execution = await stack.stepFunctions.start(undefined, JSON.stringify({ task_id: taskId }));
    await execution.done;
    expect(execution.status).toBe('FAILED');
    const task = (await stack.api('GET', `/v2/tasks/${taskId}`, { token: stack.admin })).json;
    expect(task).toMatchObject({
      status: 'failure',
      message: `Import failed at step Mark: Image ${image.id} has no staged data yet; finish the upload first.`,
    });
    const after = await stack.images.get(image.id);
    expect(after).toMatchObject({ status: 'uploading', data_key: null, upload: image.upload });
    expect(after?.properties.os_glance_import_task).toBeUndefined();
    expect(await historyOf(stack, image.id)).toEqual(['queued', 'uploading']);
    expect(await pendingUploadIds()).toContain(image.id);
  });
});

describe('the pending-upload index', () => {
  it('loses an image once its import starts (importStart clears `upload`)', async () => {
    const created = await createImage(stack);
    const image = await stack.images.get(created.id);
    if (!image) throw new Error('no image');
    // A stray upload record on a queued image (it must not survive into importing/active).
    const deadline = new Date(Date.now() + 3_600_000).toISOString();
    await stack.images.update(image, {
      upload: { kind: 'stage', key: `staging/${image.id}/${randomUUID()}`, declared_size: null, deadline },
    });
    expect(await pendingUploadIds()).toContain(image.id);
    const response = await importImage(stack, image.id, {
      method: { name: 'web-download', uri: files.url('/not-qcow2.img') },
    });
    expect(response.status).toBe(202);
    expect((await waitForImport(stack, image.id)).task.status).toBe('success');
    expect(await stack.images.get(image.id)).toMatchObject({ status: 'active', upload: null });
    expect(await pendingUploadIds()).not.toContain(image.id);
  });
});

describe('disk format check (docs/image-formats.md#the-decision)', () => {
  const notQcow2 =
    "Image disk_format 'qcow2' does not match the data, which carries no known disk format header (raw).";

  it('kills a glance-direct import of data declared qcow2 that is not qcow2', async () => {
    const image = await createImage(stack, { disk_format: 'qcow2' });
    const key = await stageDirect(stack, image.id, data);
    expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
    const { task, execution } = await waitForImport(stack, image.id);
    expect(execution.status).toBe('FAILED');
    expect(task).toMatchObject({ status: 'failure', message: `Import failed at step Verify: ${notQcow2}` });
    expect(await showImage(stack, image.id)).toMatchObject({
      status: 'killed',
      os_glance_failure_reason: task.message,
    });
    expect(await keysUnder(stack, `staging/${image.id}/`)).not.toContain(key);
    expect(await keysUnder(stack, `images/${image.id}/`)).toEqual([]);
  });

  it('kills a web-download of data declared qcow2 that is not qcow2', async () => {
    const image = await createImage(stack, { disk_format: 'qcow2' });
    const response = await importImage(stack, image.id, {
      method: { name: 'web-download', uri: files.url('/not-qcow2.img') },
    });
    expect(response.status).toBe(202);
    const { task } = await waitForImport(stack, image.id);
    expect(task).toMatchObject({ status: 'failure', message: `Import failed at step Verify: ${notQcow2}` });
    expect(await showImage(stack, image.id)).toMatchObject({ status: 'killed' });
    expect(await keysUnder(stack, `staging/${image.id}/`)).toEqual([]);
  });

  it('imports a real qcow2 (qemu-img) with the virtual size qemu-img reports', async () => {
    const real = (await imageCorpus()).find((candidate) => candidate.name === 'qcow2');
    if (!real?.qemu) throw new Error('no qcow2 in the corpus');
    const bytes = await readImage(real);
    const image = await createImage(stack, { disk_format: 'qcow2' });
    await stageDirect(stack, image.id, bytes);
    expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
    expect((await waitForImport(stack, image.id)).task.status).toBe('success');
    expect(await showImage(stack, image.id)).toMatchObject({
      status: 'active',
      size: bytes.byteLength,
      virtual_size: real.qemu.virtualSize,
    });
  });
});
