/**
 * Size cap and storage quota during imports (docs/lifecycle.md#size-cap-and-quota). The limits are read at cold start, so
 * this file sets them before its stack (and any handler) starts: a 32 KiB cap and a 70 000-byte
 * project quota.
 */
import { describe, expect, it } from 'vitest';
import {
  createImage,
  historyOf,
  importImage,
  keysUnder,
  randomBytesOf,
  serveBytes,
  serveChunked,
  showImage,
  stageDirect,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const CAP = 32_768;
const big = randomBytesOf(40_000);
const small = randomBytesOf(30_000);

const { stack, files } = useImportStack({
  env: { IMAGE_SIZE_CAP: String(CAP), USER_STORAGE_QUOTA: '70000' },
  routes: {
    '/big.img': serveBytes(big),
    '/big-chunked.img': serveChunked(big),
    '/small.img': serveBytes(small),
  },
});

const expectKilled = async (imageId: string, message: RegExp) => {
  const { task, execution } = await waitForImport(stack, imageId);
  expect(execution.status).toBe('FAILED');
  expect(task).toMatchObject({ status: 'failure', message: expect.stringMatching(message) });
  expect(await showImage(stack, imageId)).toMatchObject({
    status: 'killed',
    os_glance_failure_reason: task.message,
  });
  expect(await keysUnder(stack, `staging/${imageId}/`)).toEqual([]);
  expect(await keysUnder(stack, `images/${imageId}/`)).toEqual([]);
};

describe('size cap', () => {
  it('refuses a download whose Content-Length is over the cap before reading it', async () => {
    const image = await createImage(stack, {}, await stack.tokenFor({ project: 'p-cap-1' }));
    expect(
      (
        await importImage(
          stack,
          image.id,
          { method: { name: 'web-download', uri: files.url('/big.img') } },
          await stack.tokenFor({ project: 'p-cap-1' }),
        )
      ).status,
    ).toBe(202);
    await expectKilled(
      image.id,
      /^Import failed at step Fetch: .*announces 40000 bytes, more than the 32768 bytes/,
    );
  });

  it('stops a download without Content-Length once it passes the cap', async () => {
    const token = await stack.tokenFor({ project: 'p-cap-2' });
    const image = await createImage(stack, {}, token);
    await importImage(
      stack,
      image.id,
      { method: { name: 'web-download', uri: files.url('/big-chunked.img') } },
      token,
    );
    await expectKilled(
      image.id,
      /^Import failed at step Fetch: The data at .* is larger than the 32768 bytes/,
    );
  });

  it('kills a staged image whose data is over the cap (verify)', async () => {
    const token = await stack.tokenFor({ project: 'p-cap-3' });
    const image = await createImage(stack, {}, token);
    await stageDirect(stack, image.id, big);
    await importImage(stack, image.id, { method: { name: 'glance-direct' } }, token);
    await expectKilled(
      image.id,
      /^Import failed at step Verify: The image data is larger than the 32768 bytes/,
    );
    expect(await historyOf(stack, image.id)).toEqual([
      'queued',
      'uploading',
      'uploading',
      'importing',
      'killed',
    ]);
  });
});

describe('storage quota', () => {
  it('answers 413 before anything else once the project has used up its quota, and creates no task', async () => {
    const token = await stack.tokenFor({ project: 'p-full' });
    for (let i = 0; i < 3; i++) await stageDirect(stack, (await createImage(stack, {}, token)).id, small);
    const image = await createImage(stack, {}, token);
    const response = await importImage(
      stack,
      image.id,
      { method: { name: 'web-download', uri: files.url('/small.img') } },
      token,
    );
    expect(response.status).toBe(413);
    expect(response.json.error.message).toMatch(/used up its storage quota/);
    expect((await stack.api('GET', `/v2/images/${image.id}/tasks`, { token })).json.tasks).toEqual([]);
    expect(await showImage(stack, image.id)).toMatchObject({ status: 'queued' });
  });

  it("checks the image owner's quota, not the caller's, when an admin imports into another project", async () => {
    const fill = async (token: string) => {
      for (let i = 0; i < 3; i++) await stageDirect(stack, (await createImage(stack, {}, token)).id, small);
    };
    const admin = await stack.tokenFor({ project: 'p-admin-quota', roles: ['admin'] });
    const download = { method: { name: 'web-download', uri: files.url('/small.img') } };

    // The owner's project is full, the admin's empty: 413 naming the owner's project.
    const fullOwner = await stack.tokenFor({ project: 'p-owner-full' });
    await fill(fullOwner);
    const intoFull = await createImage(stack, {}, fullOwner);
    const refused = await importImage(stack, intoFull.id, download, admin);
    expect(refused.status).toBe(413);
    expect(refused.json.error.message).toBe('Project p-owner-full has used up its storage quota.');
    expect(await showImage(stack, intoFull.id)).toMatchObject({ status: 'queued' });

    // The admin's project is full, the owner's empty: the import goes ahead.
    await fill(admin);
    const intoEmpty = await createImage(stack, {}, await stack.tokenFor({ project: 'p-owner-empty' }));
    expect((await importImage(stack, intoEmpty.id, download, admin)).status).toBe(202);
    expect((await waitForImport(stack, intoEmpty.id)).task.status).toBe('success');
  });

  it('imports until the project quota is used, then kills the import that does not fit', async () => {
    const token = await stack.tokenFor({ project: 'p-quota' });
    for (let i = 0; i < 2; i++) {
      const image = await createImage(stack, {}, token);
      await importImage(
        stack,
        image.id,
        { method: { name: 'web-download', uri: files.url('/small.img') } },
        token,
      );
      expect((await waitForImport(stack, image.id)).task.status).toBe('success');
    }
    const image = await createImage(stack, {}, token);
    await importImage(
      stack,
      image.id,
      { method: { name: 'web-download', uri: files.url('/small.img') } },
      token,
    );
    await expectKilled(image.id, /announces 30000 bytes, more than the 10000 bytes this image may hold/);
  });
});
