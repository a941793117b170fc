/**
 * The import workflow end to end through the local stack: the API starts an execution of the
 * synthesized definition in the local Step Functions, whose states run the real handlers
 * against dynalite and s3rver.
 */
import { describe, expect, it } from 'vitest';
import { injectFault } from '#shared/import/faults';
import {
  createImage,
  historyOf,
  imageTasks,
  importImage,
  keysUnder,
  md5,
  objectExists,
  randomBytesOf,
  serveBytes,
  serveChunked,
  sha512,
  showImage,
  stageDirect,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const data = randomBytesOf(300_000);

const { stack, files } = useImportStack({
  routes: {
    '/cirros.img': serveBytes(data),
    '/chunked.img': serveChunked(data),
    '/redirect': (_req, res) => {
      res.writeHead(302, { location: '/cirros.img' });
      res.end();
    },
    '/redirect-private': (_req, res) => {
      res.writeHead(302, { location: 'http://10.1.2.3/x.img' });
      res.end();
    },
    '/short.img': (_req, res) => {
      res.writeHead(200, { 'content-length': String(data.byteLength) });
      res.write(data.subarray(0, 5000), () => res.destroy());
    },
    '/flaky.img': (_req, res, hits) => {
      if (hits === 1) {
        res.statusCode = 503;
        res.end('busy');
        return;
      }
      serveBytes(data)(_req, res, hits);
    },
  },
});

describe('glance-direct', () => {
  it('imports staged data: importing → active, task pending → processing → success, hashes right, staging gone', async () => {
    const image = await createImage(stack);
    const stagedKey = await stageDirect(stack, image.id, data);

    const response = await importImage(stack, image.id, { method: { name: 'glance-direct' } });
    expect(response.status).toBe(202);
    expect(response.text).toBe('');
    const [pending] = await imageTasks(stack, image.id);
    expect(pending).toMatchObject({ type: 'api_image_import', image_id: image.id, owner: 'p-own' });
    // tempest checks the task carries the request id of the import response.
    expect(response.headers.get('x-openstack-request-id')).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(pending?.request_id).toBe(response.headers.get('x-openstack-request-id'));

    const { task, execution } = await waitForImport(stack, image.id);
    expect(execution.status).toBe('SUCCEEDED');
    expect(task).toMatchObject({
      status: 'success',
      result: { image_id: image.id },
      message: '',
      input: { image_id: image.id, import_req: { method: { name: 'glance-direct' } }, backend: null },
    });
    // expires_at = updated_at + 48 h.
    expect(Date.parse(task.expires_at) - Date.parse(task.updated_at)).toBe(48 * 3600 * 1000);

    const shown = await showImage(stack, image.id);
    expect(shown).toMatchObject({
      status: 'active',
      size: data.byteLength,
      virtual_size: data.byteLength,
      checksum: md5(data),
      os_hash_algo: 'sha512',
      os_hash_value: sha512(data),
    });
    expect(shown.os_glance_import_task).toBeUndefined();
    expect(await historyOf(stack, image.id)).toEqual([
      'queued',
      'uploading',
      'uploading',
      'importing',
      'active',
    ]);
    expect(await objectExists(stack, stagedKey)).toBe(false);
    expect(await keysUnder(stack, `staging/${image.id}/`)).toEqual([]);
    expect(await keysUnder(stack, `images/${image.id}/`)).toEqual([`images/${image.id}/${task.id}`]);

    // The task went through processing: the execution history shows every state in order.
    const entered = execution.events
      .filter((e) => e.type === 'TaskStateEntered')
      .map((e) => (e.stateEnteredEventDetails as { name: string }).name);
    expect(entered).toEqual(['Mark', 'Fetch', 'Verify', 'Promote', 'Activate', 'Complete']);
  });

  it('imports data staged through PUT /v2/images/{id}/stage (the data path end to end)', async () => {
    const image = await createImage(stack);
    const staged = await stack.api('PUT', `/v2/images/${image.id}/stage`, {
      token: stack.owner,
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(staged.status).toBe(204);
    expect(await showImage(stack, image.id)).toMatchObject({ status: 'uploading', size: data.byteLength });
    expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
    const { task } = await waitForImport(stack, image.id);
    expect(task.status).toBe('success');
    expect(await showImage(stack, image.id)).toMatchObject({
      status: 'active',
      size: data.byteLength,
      checksum: md5(data),
      os_hash_value: sha512(data),
    });
    expect(await keysUnder(stack, `staging/${image.id}/`)).toEqual([]);
    const history = await historyOf(stack, image.id);
    expect(history.slice(-2)).toEqual(['importing', 'active']);
  });

  it('shows the task processing and the image importing while the workflow runs', async () => {
    const image = await createImage(stack);
    await stageDirect(stack, image.id, data);
    injectFault({ step: 'Verify', kind: 'delay', imageId: image.id, at: 'start', delayMs: 800 });
    expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
    const [task] = await imageTasks(stack, image.id);
    expect(task?.status).toBe('pending');
    // Mark moves the task first, then the image: sample both until the task is done.
    const seen: string[] = [];
    for (let i = 0; i < 100 && !seen.includes('success/active'); i++) {
      const shown = (await stack.api('GET', `/v2/tasks/${task?.id}`, { token: stack.admin })).json;
      seen.push(`${shown.status}/${(await showImage(stack, image.id)).status}`);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    expect(seen).toContain('processing/importing');
    expect(seen).toContain('success/active');
    await waitForImport(stack, image.id);
  });

  it('refuses a second import of the now active image (409) and creates no task', async () => {
    const image = await createImage(stack);
    await stageDirect(stack, image.id, data);
    expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
    await waitForImport(stack, image.id);
    const again = await importImage(stack, image.id, { method: { name: 'glance-direct' } });
    expect(again.status).toBe(409);
    expect(await imageTasks(stack, image.id)).toHaveLength(1);
  });

  it('kills the image when the staged data does not match the staged size', async () => {
    const image = await createImage(stack);
    const key = await stageDirect(stack, image.id, data);
    // The staged object is replaced by something shorter after staging finished.
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    await stack.s3.send(
      new PutObjectCommand({ Bucket: stack.bucketName, Key: key, Body: data.subarray(0, 10) }),
    );
    expect((await importImage(stack, image.id, { method: { name: 'glance-direct' } })).status).toBe(202);
    const { task } = await waitForImport(stack, image.id);
    expect(task.status).toBe('failure');
    expect(task.message).toMatch(
      /^Import failed at step Verify: The data's size is 10, but the image records 300000/,
    );
    const shown = await showImage(stack, image.id);
    expect(shown).toMatchObject({ status: 'killed', os_glance_failure_reason: task.message });
    expect(await objectExists(stack, key)).toBe(false);
  });
});

describe('web-download', () => {
  it('imports a URL: queued → importing → active, hashes right, staging removed', async () => {
    // Inspected (docs/image-formats.md): raw data declared raw, virtual_size its byte size.
    const image = await createImage(stack, { disk_format: 'raw' });
    const response = await importImage(stack, image.id, {
      method: { name: 'web-download', uri: files.url('/cirros.img') },
    });
    expect(response.status).toBe(202);
    const { task, execution } = await waitForImport(stack, image.id);
    expect(execution.status).toBe('SUCCEEDED');
    expect(task).toMatchObject({ status: 'success', result: { image_id: image.id } });
    expect(await showImage(stack, image.id)).toMatchObject({
      status: 'active',
      size: data.byteLength,
      virtual_size: data.byteLength,
      checksum: md5(data),
      os_hash_value: sha512(data),
    });
    expect(await historyOf(stack, image.id)).toEqual(['queued', 'importing', 'active']);
    expect(await keysUnder(stack, `staging/${image.id}/`)).toEqual([]);
  });

  it('follows a redirect and streams a body without Content-Length', async () => {
    for (const path of ['/redirect', '/chunked.img']) {
      const image = await createImage(stack);
      expect(
        (await importImage(stack, image.id, { method: { name: 'web-download', uri: files.url(path) } }))
          .status,
      ).toBe(202);
      const { task } = await waitForImport(stack, image.id);
      expect(task.status).toBe('success');
      expect(await showImage(stack, image.id)).toMatchObject({
        status: 'active',
        os_hash_value: sha512(data),
      });
    }
  });

  it('retries a 503 from the server and then succeeds', async () => {
    const image = await createImage(stack);
    await importImage(stack, image.id, { method: { name: 'web-download', uri: files.url('/flaky.img') } });
    const { task, execution } = await waitForImport(stack, image.id);
    expect(task.status).toBe('success');
    expect(files.hits('/flaky.img')).toBe(2);
    expect(execution.events.filter((e) => e.type === 'LambdaFunctionFailed')).toHaveLength(1);
  });

  it.each([
    [
      'a 404',
      '/missing.img',
      /Import failed at step Fetch: http:\/\/127\.0\.0\.1:\d+\/missing\.img answered HTTP 404/,
    ],
    [
      'a body shorter than its Content-Length',
      '/short.img',
      /Import failed at step Fetch: The connection closed after \d+ of the 300000 bytes announced by Content-Length/,
    ],
    [
      'a redirect to a private address',
      '/redirect-private',
      /Import failed at step Fetch: Redirect refused: 10\.1\.2\.3 resolves to 10\.1\.2\.3/,
    ],
  ])('fails the task and kills the image for %s', async (_, path, message) => {
    const image = await createImage(stack);
    expect(
      (await importImage(stack, image.id, { method: { name: 'web-download', uri: files.url(path) } })).status,
    ).toBe(202);
    const { task, execution } = await waitForImport(stack, image.id);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ImportError');
    expect(task.status).toBe('failure');
    expect(task.message).toMatch(message);
    expect(task.expires_at).toEqual(expect.any(String));
    const shown = await showImage(stack, image.id);
    expect(shown).toMatchObject({ status: 'killed', os_glance_failure_reason: task.message });
    expect(shown.os_glance_import_task).toBeUndefined();
    expect(await historyOf(stack, image.id)).toEqual(['queued', 'importing', 'killed']);
    expect(await keysUnder(stack, `staging/${image.id}/`)).toEqual([]);
    // D1: killed images are listed, so the user sees the failure.
    const listed = await stack.api('GET', '/v2/images?limit=1000', { token: stack.owner });
    expect(listed.json.images.map((i: { id: string }) => i.id)).toContain(image.id);
  });
});
