/**
 * Disk-format inspection on the import paths (docs/image-formats.md#where-it-runs), with real
 * images: every image of the qemu-img corpus and some bad data (test/helpers/data-cases.ts), each
 * declared as what it is, staged (`PUT /stage`, or a presigned stage when too large for it) and
 * imported with `glance-direct`, and served to a `web-download`. The import's `Verify` step judges
 * the data: safe images become active with the virtual size qemu-img reports; unsafe ones fail the
 * task at `Verify` with the reason, the image `killed`, its data deleted. And a `Verify` that runs
 * out of time ends the same way.
 */
import { describe, expect, it } from 'vitest';
import { type DataCase, dataCases, inBatches } from '#test/helpers/data-cases';
import {
  createImage,
  importImage,
  keysUnder,
  type Serve,
  serveBytes,
  showImage,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const cases = await dataCases();
const routes: Record<string, Serve> = Object.fromEntries(
  cases.map((c, i) => [`/case/${i}`, serveBytes(c.bytes)]),
);
const { stack, files } = useImportStack({ routes });

const CONCURRENCY = 4;
/** Some forty imports per path: minutes on a busy two-core machine. */
const PATH_TIMEOUT_MS = 300_000;
const VERIFY = 'Import failed at step Verify: ';

/** What an import must end with for each case. */
const wanted = (c: DataCase) =>
  c.expected.accept
    ? {
        name: c.name,
        task: 'success',
        status: 'active',
        size: c.bytes.byteLength,
        virtual_size: c.expected.virtual_size,
      }
    : {
        name: c.name,
        task: 'failure',
        status: 'killed',
        reason: expect.stringMatching(new RegExp(`^${VERIFY}${c.expected.reason.source.replace(/^\^/, '')}`)),
      };

/** Waits for the import of `imageId` and reports how it ended; a refused one must leave no data. */
const outcome = async (c: DataCase, imageId: string) => {
  const { task } = await waitForImport(stack, imageId);
  const shown = await showImage(stack, imageId);
  if (task.status === 'success') {
    return {
      name: c.name,
      task: task.status,
      status: shown.status,
      size: shown.size,
      virtual_size: shown.virtual_size,
    };
  }
  expect(shown.os_glance_failure_reason).toBe(task.message);
  expect([
    ...(await keysUnder(stack, `staging/${imageId}/`)),
    ...(await keysUnder(stack, `images/${imageId}/`)),
  ]).toEqual([]);
  return { name: c.name, task: task.status, status: shown.status, reason: task.message };
};

/** Stages `bytes` as a client would: `PUT /stage`, or a presigned stage when too large for it. */
const stage = async (imageId: string, bytes: Buffer) => {
  // Loaded once the stack has set the log level (the module loads the logger).
  const { MAX_DIRECT_UPLOAD_BYTES } = await import('#shared/uploads/direct');
  if (bytes.byteLength <= MAX_DIRECT_UPLOAD_BYTES) {
    const response = await stack.api('PUT', `/v2/images/${imageId}/stage`, {
      token: stack.owner,
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(response.status).toBe(204);
    return;
  }
  const plan = await stack.api('POST', `/v2/images/${imageId}/stage/presign`, {
    token: stack.owner,
    body: { size: bytes.byteLength },
  });
  expect(plan.status).toBe(200);
  expect(
    (await fetch(plan.json.url, { method: 'PUT', body: bytes, headers: plan.json.headers })).status,
  ).toBe(200);
  for (let waited = 0; !(await stack.images.get(imageId))?.data_key; waited += 50) {
    if (waited > 30_000) throw new Error(`staged data of ${imageId} never arrived`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('glance-direct', () => {
  it(
    'activates every safe image with its virtual size and fails every unsafe one at Verify',
    async () => {
      const observed = await inBatches(cases, CONCURRENCY, async (c) => {
        const image = await createImage(stack, { disk_format: c.disk_format });
        await stage(image.id, c.bytes);
        expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
        return outcome(c, image.id);
      });
      expect(observed).toEqual(cases.map(wanted));
    },
    PATH_TIMEOUT_MS,
  );
});

describe('web-download', () => {
  it(
    'activates every safe image with its virtual size and fails every unsafe one at Verify',
    async () => {
      const observed = await inBatches(cases, CONCURRENCY, async (c) => {
        const image = await createImage(stack, { disk_format: c.disk_format });
        const uri = files.url(`/case/${cases.indexOf(c)}`);
        expect((await importImage(stack, image.id, { method: { name: 'web-download', uri } })).status).toBe(
          202,
        );
        return outcome(c, image.id);
      });
      expect(observed).toEqual(cases.map(wanted));
    },
    PATH_TIMEOUT_MS,
  );
});

describe('Verify out of time', () => {
  it('fails the task with the reason and kills the image, its data deleted', async () => {
    // The reserve is 30 s: a Verify function with 30 s in all has no time to read anything.
    stack.stepFunctions.configure({ retryIntervalMs: 5, functionTimeoutSeconds: { Verify: 30 } });
    try {
      const c = cases.find((candidate) => candidate.name === 'qcow2') as DataCase;
      const image = await createImage(stack, { disk_format: 'qcow2' });
      await stage(image.id, c.bytes);
      expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
      expect(await outcome(c, image.id)).toEqual({
        name: 'qcow2',
        task: 'failure',
        status: 'killed',
        reason: `${VERIFY}The data could not be verified within the function time limit: 0 of ${c.bytes.byteLength} bytes read in 0 s.`,
      });
    } finally {
      stack.stepFunctions.configure({ retryIntervalMs: 5 });
    }
  });
});
