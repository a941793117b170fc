/**
 * The import lock against writes that land between the request's read of the image and its lock
 * write (docs/import-workflow.md#import-lock): `POST /import` and `POST /locations` run with the
 * service's own dependencies, except that the image repository lets a concurrent write land right
 * before the lock write. A harmless edit (the name, a tag; the S3 trigger recording the stage is
 * in stage-race.test.ts) costs the request a run on the fresh image, not a 409; an edit that does
 * lock the image, or moves it out of the status the import needs, earns the fresh image's 409.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { Conflict } from '#shared/errors';
import { failTask, releaseLock } from '#shared/import/records';
import { type ImportApiDeps, requestImport } from '#shared/import/start-import';
import { type LocationApiDeps, requestLocationImport } from '#shared/locations/add-location';
import { decideImage } from '#shared/status-rules';
import { member } from '#test/helpers/images';
import {
  createImage,
  historyOf,
  imageTasks,
  md5,
  plantPendingImport,
  racingImages,
  randomBytesOf,
  stageDirect,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const data = randomBytesOf(10_000);
const PATCH = 'application/openstack-images-v2.1-json-patch';
const { stack } = useImportStack({ routes: {} });
const owner = member('p-own', 'user-p-own');

const rename = (imageId: string, name: string) => async () => {
  const response = await stack.api('PATCH', `/v2/images/${imageId}`, {
    token: stack.owner,
    body: [{ op: 'replace', path: '/name', value: name }],
    headers: { 'content-type': PATCH },
  });
  expect(response.status).toBe(200);
};

const tag = (imageId: string, value: string) => async () => {
  const response = await stack.api('PUT', `/v2/images/${imageId}/tags/${value}`, { token: stack.owner });
  expect(response.status).toBe(204);
};

const importDeps = async (): Promise<ImportApiDeps> => (await import('#shared/runtime')).importApiDeps();
const locationDeps = async (): Promise<LocationApiDeps> =>
  (await import('#shared/runtime')).locationApiDeps();

/** A staged image (glance-direct ready) whose import is requested while `edit` lands. */
const importWhile = async (imageId: string, edit: () => Promise<unknown>) => {
  const deps = await importDeps();
  const { images, seen } = racingImages(deps.images, edit);
  const request = requestImport({ ...deps, images }, owner, imageId, { method: { name: 'glance-direct' } });
  return { request, seen };
};

describe('POST /import while another write lands before the lock write', () => {
  it.each([
    ['a PATCH of the name', (id: string) => rename(id, 'renamed mid-import')],
    ['a new tag', (id: string) => tag(id, 'mid-import')],
  ])('is accepted after %s, which is kept, and the import runs', async (_what, edit) => {
    const image = await createImage(stack);
    await stageDirect(stack, image.id, data);
    const { request, seen } = await importWhile(image.id, edit(image.id));
    const task = await request;
    expect(seen.updates).toBe(2);
    expect(task).toMatchObject({ status: 'pending', image_id: image.id });
    const { execution } = await waitForImport(stack, image.id);
    expect(execution.status).toBe('SUCCEEDED');
    const imported = await stack.images.get(image.id);
    expect(imported).toMatchObject({ status: 'active', checksum: md5(data) });
    expect(
      imported?.name === 'renamed mid-import' || imported?.tags.includes('mid-import'),
      'the concurrent edit was kept',
    ).toBe(true);
  });

  it('answers 409 when the write was another import taking the lock, and writes nothing', async () => {
    const image = await createImage(stack);
    await stageDirect(stack, image.id, data);
    let holder = '';
    const { request, seen } = await importWhile(image.id, async () => {
      const current = await stack.images.get(image.id);
      if (!current) throw new Error('no image');
      holder = await plantPendingImport(stack, current);
    });
    const refused = await request.catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Conflict);
    expect((refused as Conflict).message).toContain(`has active task ${holder}`);
    expect(seen.updates).toBe(1);
    expect((await imageTasks(stack, image.id, stack.admin)).map((task) => task.id)).toEqual([holder]);
    // The planted import never runs: end it, as the stale-lock rule eventually would.
    await releaseLock(stack.images, image.id, holder);
    const planted = await stack.tasks.get(holder);
    if (planted) await failTask(stack.tasks, planted, 'test cleanup', 1);
  });

  it('answers 409 when the write killed the image', async () => {
    const image = await createImage(stack);
    await stageDirect(stack, image.id, data);
    const { request } = await importWhile(image.id, async () => {
      const current = await stack.images.get(image.id);
      if (!current) throw new Error('no image');
      // The S3 trigger refusing the staged data (stageReject).
      await stack.images.transition(current, decideImage(current, 'stageReject'), { actor: 'test' });
    });
    const refused = await request.catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Conflict);
    expect((refused as Conflict).message).toMatch(/needs an image in status 'uploading'/);
    expect(await historyOf(stack, image.id)).not.toContain('importing');
  });
});

describe('POST /locations while another write lands before the lock write', () => {
  it('is accepted after a PATCH of the name, and the location import runs', async () => {
    const image = await createImage(stack);
    const key = `locations/${image.id}.raw`;
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucketName, Key: key, Body: data }));
    const deps = await locationDeps();
    const { images, seen } = racingImages(deps.images, rename(image.id, 'renamed mid-add'));
    const task = await requestLocationImport({ ...deps, images }, owner, image.id, {
      url: `s3://${stack.bucketName}/${key}`,
    });
    expect(seen.updates).toBe(2);
    expect(task).toMatchObject({ type: 'location_import', status: 'pending' });
    expect((await waitForImport(stack, image.id)).execution.status).toBe('SUCCEEDED');
    expect(await stack.images.get(image.id)).toMatchObject({
      status: 'active',
      name: 'renamed mid-add',
      checksum: md5(data),
    });
  });
});
