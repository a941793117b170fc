/**
 * The size cap during imports (docs/lifecycle.md#size-cap-and-quota). The cap is read at cold
 * start, so this file sets it before its stack (and any handler) starts: 32 KiB. Quotas during
 * imports: quotas.test.ts.
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

const { stack, files } = useImportStack({
  env: { IMAGE_SIZE_CAP: String(CAP) },
  routes: {
    '/big.img': serveBytes(big),
    '/big-chunked.img': serveChunked(big),
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
