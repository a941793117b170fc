import { describe, expect, it } from 'vitest';
import { injectFault } from '#shared/import/faults';
import { eventually } from '#test/integration/uploads/helpers';
import {
  createImage,
  importImage,
  lateStageTrigger,
  randomBytesOf,
  showImage,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const data = randomBytesOf(30_000);
const { stack } = useImportStack({ routes: {}, env: { LOCAL_FINALISER: 'off' } });

const ledger = async () => (await import('#shared/runtime')).ledger();
const usageOf = async (project: string) => (await (await ledger()).read(project)).usage;

const late = lateStageTrigger(stack);
const { trigger } = late;

/** Presigns a stage upload (with `size`, or without) and PUTs the data to it; the trigger has not run. */
const stage = async (token: string, imageId: string, size: number | undefined) => {
  const key = await late.stage(imageId, data, { token, size: size ?? null });
  expect(await stack.images.get(imageId)).toMatchObject({ status: 'uploading', size: null, data_key: null });
  return key;
};

describe('glance-direct taken by Mark before the S3 trigger', () => {
  it.each([
    ['a declared', 'p-stage-declared', data.byteLength],
    ['an undeclared', 'p-stage-undeclared', undefined],
  ])(
    'holds the staged data of %s size while importing, and gives it back at the end',
    async (_, project, size) => {
      const token = await stack.tokenFor({ project });
      const image = await createImage(stack, {}, token);
      await stage(token, image.id, size);
      // Held while the data is staged: the declared size, or (undeclared) nothing yet.
      expect((await usageOf(project)).image_stage_total).toBe(size ?? 0);

      // Holds the import in Fetch, once Mark has moved the image to importing.
      injectFault({ step: 'Fetch', kind: 'delay', delayMs: 1500, imageId: image.id, at: 'start' });
      expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } }, token)).status).toBe(
        202,
      );
      await eventually(async () => (await stack.images.get(image.id))?.status === 'importing');
      expect(await usageOf(project)).toMatchObject({
        image_stage_total: data.byteLength,
        image_count_uploading: 1,
      });
      expect(await stack.images.get(image.id)).toMatchObject({ size: data.byteLength, upload: null });

      expect((await waitForImport(stack, image.id)).task.status).toBe('success');
      expect(await usageOf(project)).toMatchObject({
        image_size_total: data.byteLength,
        image_stage_total: 0,
        image_count_uploading: 0,
      });
    },
  );

  it('fails the import at Mark with the quota when staged data of undeclared size does not fit', async () => {
    const project = 'p-stage-over';
    const token = await stack.tokenFor({ project });
    await (await ledger()).setLimit(project, 'image_stage_total', 0);
    const image = await createImage(stack, {}, token);
    // A presign without a size holds only the upload slot: the data is checked when it is taken.
    const key = await stage(token, image.id, undefined);
    expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } }, token)).status).toBe(
      202,
    );

    const { task } = await waitForImport(stack, image.id);
    expect(task).toMatchObject({
      status: 'failure',
      message: expect.stringMatching(
        /^Import failed at step Mark: Project p-stage-over is over a limit for \[Resource image_stage_total is over limit of 0/,
      ),
    });
    expect(await usageOf(project)).toMatchObject({ image_stage_total: 0, image_count_uploading: 1 });
    // The import never reached the image: it keeps its upload, which the trigger then rejects.
    expect(await showImage(stack, image.id)).toMatchObject({ status: 'uploading' });
    await trigger(key);
    expect(await showImage(stack, image.id)).toMatchObject({
      status: 'killed',
      os_glance_failure_reason: expect.stringContaining('exceeds the quota image_stage_total'),
    });
    expect(await usageOf(project)).toMatchObject({ image_stage_total: 0, image_count_uploading: 0 });
  });
});
