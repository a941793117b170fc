/**
 * Quotas during imports (docs/quotas.md#where-they-are-checked): 413 at `POST /import` when the
 * image owner has no room, an admin importing into another project held to that project's
 * limits, a web-download held to the room left in image_stage_total (where it stages its data),
 * and the reservation at activation that lets only what fits become active when imports race (the
 * other ends killed with the reason).
 */
import { describe, expect, it } from 'vitest';
import type { QuotaName } from '#shared/quotas/usage';
import {
  createImage,
  imageTasks,
  importImage,
  randomBytesOf,
  serveBytes,
  showImage,
  stageDirect,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const part = randomBytesOf(700 * KiB);

const { stack, files } = useImportStack({ routes: { '/part.img': serveBytes(part) } });

const ledger = async () => (await import('#shared/runtime')).ledger();
const setLimit = async (project: string, name: QuotaName, value: number) =>
  (await ledger()).setLimit(project, name, value);
const download = () => ({ method: { name: 'web-download', uri: files.url('/part.img') } });

/** An active image of `bytes` in the token's project, uploaded through the API. */
const activeImage = async (token: string, bytes: Uint8Array) => {
  const image = await createImage(stack, {}, token);
  const response = await stack.api('PUT', `/v2/images/${image.id}/file`, {
    token,
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(response.status).toBe(204);
  return image;
};

describe('quotas at POST /import', () => {
  it('answers 413 before anything else once the project has no room for data, and creates no task', async () => {
    const token = await stack.tokenFor({ project: 'p-full' });
    await setLimit('p-full', 'image_size_total', 1);
    await activeImage(token, randomBytesOf(MiB));
    const image = await createImage(stack, {}, token);
    const response = await importImage(stack, image.id, download(), token);
    expect(response.status).toBe(413);
    expect(response.json.error.message).toMatch(
      /^Project p-full is over a limit for \[Resource image_size_total is over limit of 1 due to current usage 1 and delta 0/,
    );
    expect(await imageTasks(stack, image.id, token)).toEqual([]);
    expect(await showImage(stack, image.id)).toMatchObject({ status: 'queued' });
  });

  it('counts a web-download from queued as one more upload; a staged image already holds its slot', async () => {
    const token = await stack.tokenFor({ project: 'p-slots' });
    await setLimit('p-slots', 'image_count_uploading', 1);
    const staged = await createImage(stack, {}, token);
    await stageDirect(stack, staged.id, part);
    const queued = await createImage(stack, {}, token);
    const refused = await importImage(stack, queued.id, download(), token);
    expect(refused.status).toBe(413);
    expect(refused.json.error.message).toContain('Resource image_count_uploading is over limit of 1');
    expect((await importImage(stack, staged.id, { method: { name: 'glance-direct' } }, token)).status).toBe(
      202,
    );
    expect((await waitForImport(stack, staged.id)).task.status).toBe('success');
    // The slot is free again once the import is done.
    expect((await importImage(stack, queued.id, download(), token)).status).toBe(202);
    expect((await waitForImport(stack, queued.id)).task.status).toBe('success');
  });

  it('needs room in image_stage_total for a web-download, which stages its data', async () => {
    const token = await stack.tokenFor({ project: 'p-stage-full' });
    await setLimit('p-stage-full', 'image_stage_total', 0);
    const image = await createImage(stack, {}, token);
    const response = await importImage(stack, image.id, download(), token);
    expect(response.status).toBe(413);
    expect(response.json.error.message).toMatch(
      /^Project p-stage-full is over a limit for \[Resource image_stage_total is over limit of 0 due to current usage 0 and delta 0/,
    );
    expect(await imageTasks(stack, image.id, token)).toEqual([]);
    expect(await showImage(stack, image.id)).toMatchObject({ status: 'queued' });
  });

  it("checks the image owner's quotas, not the caller's, when an admin imports into another project", async () => {
    const admin = await stack.tokenFor({ project: 'p-admin-quota', roles: ['admin'] });
    await setLimit('p-admin-quota', 'image_size_total', 0);
    await setLimit('p-owner-full', 'image_size_total', 0);

    const intoFull = await createImage(stack, {}, await stack.tokenFor({ project: 'p-owner-full' }));
    const refused = await importImage(stack, intoFull.id, download(), admin);
    expect(refused.status).toBe(413);
    expect(refused.json.error.message).toMatch(/^Project p-owner-full is over a limit/);
    expect(await showImage(stack, intoFull.id)).toMatchObject({ status: 'queued' });

    const intoEmpty = await createImage(stack, {}, await stack.tokenFor({ project: 'p-owner-empty' }));
    expect((await importImage(stack, intoEmpty.id, download(), admin)).status).toBe(202);
    expect((await waitForImport(stack, intoEmpty.id)).task.status).toBe('success');
  });

  it("answers another project's import with 403, never with the owner's usage in a 413", async () => {
    const owner = await stack.tokenFor({ project: 'p-watched' });
    await setLimit('p-watched', 'image_size_total', 1);
    await activeImage(owner, randomBytesOf(MiB));
    const image = await createImage(stack, { visibility: 'community' }, owner);
    const outsider = await stack.tokenFor({ project: 'p-watcher' });
    const refused = await importImage(stack, image.id, download(), outsider);
    expect(refused.status).toBe(403);
    expect(refused.text).not.toMatch(/usage|limit|p-watched/);
    expect(await imageTasks(stack, image.id, owner)).toEqual([]);
    // The owner still gets the 413, first.
    expect((await importImage(stack, image.id, download(), owner)).status).toBe(413);
  });
});

describe('quotas during the import', () => {
  it('lets only what fits become active when imports race: the other is killed with the reason', async () => {
    const token = await stack.tokenFor({ project: 'p-race' });
    await setLimit('p-race', 'image_size_total', 1);
    const images = [await createImage(stack, {}, token), await createImage(stack, {}, token)];
    for (const image of images) await stageDirect(stack, image.id, part);
    // Both pass the check at POST /import: nothing is active yet.
    const responses = await Promise.all(
      images.map((image) => importImage(stack, image.id, { method: { name: 'glance-direct' } }, token)),
    );
    expect(responses.map((response) => response.status)).toEqual([202, 202]);
    const outcomes = await Promise.all(images.map((image) => waitForImport(stack, image.id)));
    expect(outcomes.map(({ task }) => task.status).sort()).toEqual(['failure', 'success']);
    const failed = outcomes.find(({ task }) => task.status === 'failure');
    expect(failed?.task.message).toMatch(
      /^Import failed at step Activate: Project p-race is over a limit for \[Resource image_size_total/,
    );
    const shown = await Promise.all(images.map((image) => showImage(stack, image.id)));
    expect(shown.map((image) => image.status).sort()).toEqual(['active', 'killed']);
    const quota = await (await ledger()).read('p-race');
    expect(quota.usage).toMatchObject({
      image_size_total: part.length,
      image_stage_total: 0,
      image_count_uploading: 0,
    });
    expect(quota.pending).toEqual([]);
  });

  it.each<[QuotaName, string, (token: string) => Promise<unknown>, RegExp]>([
    [
      'image_size_total',
      'p-left',
      (token) => activeImage(token, randomBytesOf(512 * KiB)),
      /^Import failed at step Fetch: .*announces 716800 bytes, more than the 524288 bytes/,
    ],
    [
      'image_stage_total',
      'p-stage-left',
      async (token) => stageDirect(stack, (await createImage(stack, {}, token)).id, randomBytesOf(512 * KiB)),
      /^Import failed at step Fetch: .*announces 716800 bytes, more than the 524288 bytes .*what project p-stage-left has left of image_stage_total/,
    ],
  ])('stops a download at what the project has left of %s', async (quota, project, use, message) => {
    const token = await stack.tokenFor({ project });
    await setLimit(project, quota, 1);
    await use(token);
    const image = await createImage(stack, {}, token);
    expect((await importImage(stack, image.id, download(), token)).status).toBe(202);
    const { task } = await waitForImport(stack, image.id);
    expect(task).toMatchObject({ status: 'failure', message: expect.stringMatching(message) });
    expect(await showImage(stack, image.id)).toMatchObject({ status: 'killed' });
  });
});
