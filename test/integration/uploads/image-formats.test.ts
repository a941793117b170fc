/**
 * Disk-format inspection on the upload paths (docs/image-formats.md#where-it-runs), with real
 * images: every image of the qemu-img corpus and some bad data (test/helpers/data-cases.ts),
 * each declared as what it is, through `PUT /file` (judged before the status changes: 204 or 415
 * with the reason, the image left `queued`) and through a presigned PUT (judged by the S3 trigger:
 * `active`, or `killed` with the reason and the object deleted). Safe images become active with
 * the virtual size qemu-img reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DIRECT_UPLOAD_BYTES } from '#shared/uploads/direct';
import { type DataCase, dataCases, inBatches } from '#test/helpers/data-cases';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import {
  createImage,
  eventually,
  type Json,
  keysUnder,
  putTo,
  s3Of,
  showImage,
  uploadDirect,
  waitForImage,
} from './helpers.ts';

let stack: TestStack;
let owner: string;
const cases = await dataCases();

beforeAll(async () => {
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: 'p-formats', roles: ['member', 'reader'] });
});
afterAll(() => stack.stop());

/** What a path must end with for each case. */
const wanted = (c: DataCase, refusedStatus: string) =>
  c.expected.accept
    ? { name: c.name, status: 'active', size: c.bytes.byteLength, virtual_size: c.expected.virtual_size }
    : { name: c.name, status: refusedStatus, reason: expect.stringMatching(c.expected.reason) };

const CONCURRENCY = 4;
/** Some forty uploads per path: a minute or more on a busy two-core machine. */
const PATH_TIMEOUT_MS = 240_000;

describe('PUT /file (direct upload)', () => {
  const fits = cases.filter((c) => c.bytes.byteLength <= MAX_DIRECT_UPLOAD_BYTES);

  it(
    'takes every safe image with its virtual size and refuses every unsafe one with 415 and the reason',
    async () => {
      const observed = await inBatches(fits, CONCURRENCY, async (c) => {
        const image = await createImage(stack, owner, { disk_format: c.disk_format });
        const response = await uploadDirect(stack, owner, image.id, c.bytes);
        const shown = await showImage(stack, owner, image.id);
        if (response.status === 204) {
          return { name: c.name, status: shown.status, size: shown.size, virtual_size: shown.virtual_size };
        }
        expect({ name: c.name, code: response.status, status: shown.status }).toEqual({
          name: c.name,
          code: 415,
          status: 'queued',
        });
        return { name: c.name, status: 'refused', reason: response.json.error.message };
      });
      expect(observed).toEqual(fits.map((c) => wanted(c, 'refused')));
    },
    PATH_TIMEOUT_MS,
  );

  it('sends data over the direct limit to presign (the 16 MiB VHDX)', async () => {
    const over = cases.filter((c) => c.bytes.byteLength > MAX_DIRECT_UPLOAD_BYTES);
    expect(over.map((c) => c.name)).toEqual(['vhdx']);
  });
});

describe('presigned PUT (the S3 trigger)', () => {
  it(
    'activates every safe image with its virtual size and kills every unsafe one, deleting its data',
    async () => {
      const observed = await inBatches(cases, CONCURRENCY, async (c) => {
        const image = await createImage(stack, owner, { disk_format: c.disk_format });
        const plan = await stack.api('POST', `/v2/images/${image.id}/file/presign`, {
          token: owner,
          body: { size: c.bytes.byteLength },
        });
        expect(plan.status).toBe(200);
        expect((await putTo(plan.json.url, c.bytes, plan.json.headers)).status).toBe(200);
        const shown: Json = await waitForImage(stack, owner, image.id, (i) => i.status !== 'saving', 30_000);
        if (shown.status === 'active') {
          return { name: c.name, status: shown.status, size: shown.size, virtual_size: shown.virtual_size };
        }
        // The trigger kills the image first and then deletes the object: wait for the delete.
        await eventually(
          async () => (await keysUnder(s3Of(stack), stack.bucketName, `images/${image.id}/`)).length === 0,
          30_000,
        );
        return { name: c.name, status: shown.status, reason: shown.os_glance_failure_reason };
      });
      expect(observed).toEqual(cases.map((c) => wanted(c, 'killed')));
    },
    PATH_TIMEOUT_MS,
  );
});
