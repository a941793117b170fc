import { describe, expect, it } from 'vitest';
import { requestImport } from '#shared/import/start-import';
import { member } from '#test/helpers/images';
import {
  createImage,
  historyOf,
  imageTasks,
  importImage,
  lateStageTrigger,
  md5,
  plantPendingImport,
  racingImages,
  randomBytesOf,
  sha512,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const data = randomBytesOf(30_000);
const { stack } = useImportStack({ routes: {}, env: { LOCAL_FINALISER: 'off' } });

const late = lateStageTrigger(stack);
const { trigger } = late;

/** Presigns a stage upload for `data` and PUTs `bytes` to it; the trigger has not run. */
const stage = async (imageId: string, bytes: Uint8Array = data) => {
  const key = await late.stage(imageId, bytes, { size: data.byteLength });
  const image = await stack.images.get(imageId);
  expect(image).toMatchObject({ status: 'uploading', data_key: null, upload: { kind: 'stage', key } });
  return key;
};

const expectVerifiedActive = async (imageId: string) => {
  const image = await stack.images.get(imageId);
  expect(image).toMatchObject({
    status: 'active',
    size: data.byteLength,
    checksum: md5(data),
    os_hash_value: sha512(data),
    upload: null,
  });
  return image;
};

describe('glance-direct before the S3 trigger has run', () => {
  it('is accepted as soon as the staged object exists, and the late trigger changes nothing', async () => {
    const image = await createImage(stack);
    const key = await stage(image.id);

    const response = await importImage(stack, image.id, { method: { name: 'glance-direct' } });
    expect(response.status).toBe(202);
    const { task } = await waitForImport(stack, image.id);
    expect(task.status).toBe('success');
    const imported = await expectVerifiedActive(image.id);

    expect(await trigger(key)).toEqual([expect.objectContaining({ key })]);
    expect(await stack.images.get(image.id)).toEqual(imported);
    expect((await historyOf(stack, image.id)).at(-1)).toBe('active');
  });

  it('ends the same when the trigger records the stage between the API and the workflow', async () => {
    const created = await createImage(stack);
    const key = await stage(created.id);
    const image = await stack.images.get(created.id);
    if (!image) throw new Error('no image');
    // The import the API accepted (lock and pending task), its execution not started yet.
    const taskId = await plantPendingImport(stack, image);
    await trigger(key);
    expect(await stack.images.get(created.id)).toMatchObject({
      status: 'uploading',
      data_key: key,
      upload: null,
    });
    const execution = await stack.stepFunctions.start(undefined, JSON.stringify({ task_id: taskId }));
    await execution.done;
    expect(execution.status).toBe('SUCCEEDED');
    await expectVerifiedActive(created.id);
  });

  it('is accepted when the trigger records the stage between the API reading the image and writing its lock', async () => {
    const image = await createImage(stack);
    const key = await stage(image.id);
    const deps = (await import('#shared/runtime')).importApiDeps();
    const { images, seen } = racingImages(deps.images, () => trigger(key));
    const task = await requestImport({ ...deps, images }, member('p-own', 'user-p-own'), image.id, {
      method: { name: 'glance-direct' },
    });
    // The lock write lost to the trigger's and was made again on the recorded stage.
    expect(seen.updates).toBe(2);
    expect(task).toMatchObject({ status: 'pending', image_id: image.id });
    const { execution } = await waitForImport(stack, image.id);
    expect(execution.status).toBe('SUCCEEDED');
    await expectVerifiedActive(image.id);
  });

  it('is refused (409) while the staged object does not have the declared size', async () => {
    const image = await createImage(stack);
    await stage(image.id, data.subarray(0, 1000));
    const response = await importImage(stack, image.id, { method: { name: 'glance-direct' } });
    expect(response.status).toBe(409);
    expect(await imageTasks(stack, image.id)).toEqual([]);
  });
});
