/**
 * glance-direct right after the client's presigned stage PUT returned, before the S3 trigger has
 * run (`LOCAL_FINALISER=off`: the test delivers the trigger's event by hand, when it wants). S3 is
 * strongly consistent, so the staged object is there: the import is accepted, and the trigger and
 * the workflow, in either order, end with one verified active image. `Mark` heads the staged
 * object itself here; the local S3 checks no object permissions (infra/local/s3-access.ts models
 * only ListBucket's effect on a missing key), so that `Mark` may read `staging/*` on AWS is
 * checked against its synthesized role in test/infra/import/definition.test.ts.
 */
import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { requestImport } from '#shared/import/start-import';
import { member } from '#test/helpers/images';
import { eventually, putTo } from '#test/integration/uploads/helpers';
import {
  createImage,
  historyOf,
  imageTasks,
  importImage,
  md5,
  plantPendingImport,
  racingImages,
  randomBytesOf,
  sha512,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const data = randomBytesOf(30_000);
const records: S3EventRecord[] = [];
const { stack } = useImportStack({ routes: {}, env: { LOCAL_FINALISER: 'off' } });

/** Presigns a stage upload and PUTs `bytes` to it; the trigger has not run. */
const stage = async (imageId: string, bytes: Uint8Array = data) => {
  if (records.length === 0) stack.onObjectCreated((event) => void records.push(...event.Records));
  const plan = (
    await stack.api('POST', `/v2/images/${imageId}/stage/presign`, {
      token: stack.owner,
      body: { size: data.byteLength },
    })
  ).json;
  // s3rver does not enforce the signed Content-Length that S3 would: a short body can arrive.
  const headers = Object.fromEntries(
    Object.entries(plan.headers as Record<string, string>).filter(
      ([name]) => name.toLowerCase() !== 'content-length',
    ),
  );
  expect((await putTo(plan.url, bytes, headers)).status).toBe(200);
  const key = `staging/${imageId}/${plan.upload_id}`;
  await eventually(async () => records.some((record) => record.s3.object.key === key));
  const image = await stack.images.get(imageId);
  expect(image).toMatchObject({ status: 'uploading', data_key: null, upload: { kind: 'stage', key } });
  return key;
};

/** Delivers the S3 event of `key` to the finaliser, as S3 would, late. */
const trigger = async (key: string) => {
  const { handler } = await import('#functions/uploads/finalise');
  const delivered = records.filter((record) => record.s3.object.key === key);
  return handler(
    { Records: delivered } as S3Event,
    {
      functionName: 'Finalise',
      awsRequestId: 'late',
      getRemainingTimeInMillis: () => 60_000,
    } as unknown as Context,
  );
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
