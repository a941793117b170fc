/**
 * `POST/GET /v2/images/{id}/locations` (Image API 2.17) end to end on the emulators: the API starts a
 * `location_import` task on the import workflow, which reads the location once where it is, hashes and inspects it,
 * and takes the image queued → active (`locationAdd`), or kills it (D1). Every bad input is a Glance-shaped 4xx with
 * nothing written.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { injectFault } from '#shared/import/faults';
import { LOCK_PROPERTY } from '#shared/import/lock';
import {
  createImage,
  historyOf,
  imageTasks,
  md5,
  objectExists,
  randomBytesOf,
  serveBytes,
  sha512,
  showImage,
  useImportStack,
  waitForImport,
} from '../import/helpers.ts';
import { download } from '../uploads/helpers.ts';

const data = randomBytesOf(300_000);
const other = randomBytesOf(1000).reverse();

const { stack, files } = useImportStack({
  routes: {
    '/disk.raw': serveBytes(data),
    '/missing.raw': (_req, res) => {
      res.statusCode = 404;
      res.end('no');
    },
  },
});

const service = () => stack.tokenFor({ project: 'p-service', roles: ['service'] });

/** Puts an object under the default allowed prefix (`locations/`) of the local bucket; returns its s3:// URL. */
const putLocation = async (bytes: Uint8Array, name = `${randomUUID()}.raw`) => {
  const key = `locations/${name}`;
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucketName, Key: key, Body: bytes }));
  return { key, url: `s3://${stack.bucketName}/${key}` };
};

const addLocation = (imageId: string, body: unknown, token = stack.owner) =>
  stack.api('POST', `/v2/images/${imageId}/locations`, { token, body });

describe('POST /v2/images/{id}/locations', () => {
  it('registers an S3 object: queued → active (locationAdd) with verified hashes; the data is never copied', async () => {
    const image = await createImage(stack);
    const { key, url } = await putLocation(data);

    const response = await addLocation(image.id, {
      url,
      validation_data: { os_hash_algo: 'sha512', os_hash_value: sha512(data) },
    });
    expect(response.status).toBe(202);
    expect(response.text).toBe('');

    const { task, execution } = await waitForImport(stack, image.id);
    expect(execution.status).toBe('SUCCEEDED');
    expect(task).toMatchObject({
      type: 'location_import',
      status: 'success',
      result: { image_id: image.id },
      input: { image_id: image.id, loc_url: url, validation_data: { os_hash_algo: 'sha512' } },
    });
    const shown = await showImage(stack, image.id);
    expect(shown).toMatchObject({
      status: 'active',
      size: data.byteLength,
      virtual_size: data.byteLength,
      checksum: md5(data),
      os_hash_algo: 'sha512',
      os_hash_value: sha512(data),
    });
    expect(shown).not.toHaveProperty(LOCK_PROPERTY);
    // Locations stay hidden unless show_multiple_locations is on.
    expect(shown).not.toHaveProperty('locations');
    const history = (await stack.api('GET', `/v2/images/${image.id}/history`, { token: stack.owner })).json
      .history as Array<{ from: string; to: string; trigger: string }>;
    expect(history.map(({ from, to, trigger }) => ({ from, to, trigger }))).toEqual([
      { from: null, to: 'queued', trigger: 'create' },
      { from: 'queued', to: 'active', trigger: 'locationAdd' },
    ]);

    // The service role sees where the data is.
    const listed = await stack.api('GET', `/v2/images/${image.id}/locations`, { token: await service() });
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual([{ url, metadata: {} }]);
    const refused = await stack.api('GET', `/v2/images/${image.id}/locations`, { token: stack.owner });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe(403);

    // Downloads redirect to a presigned GET of the location, which serves the bytes.
    const got = await download(stack, stack.owner, image.id);
    expect(got.status).toBe(302);
    expect(got.location).toContain(`/${key}`);
    expect(got.redirect.headers.get('content-md5')).toBe(md5(data));
    expect(got.bytes?.equals(data)).toBe(true);

    // Nothing was written under the image's own prefixes, and deleting it leaves the location's object alone.
    expect(await stack.api('DELETE', `/v2/images/${image.id}`, { token: stack.owner })).toMatchObject({
      status: 204,
    });
    expect(await objectExists(stack, key)).toBe(true);
  });

  it('registers an http URL served by a local server (allowed by the import URL filter) and redirects downloads to it', async () => {
    const image = await createImage(stack);
    const url = files.url('/disk.raw');
    expect((await addLocation(image.id, { url })).status).toBe(202);
    const { task } = await waitForImport(stack, image.id);
    expect(task.status).toBe('success');
    expect(await showImage(stack, image.id)).toMatchObject({
      status: 'active',
      size: data.byteLength,
      os_hash_value: sha512(data),
    });
    const got = await download(stack, stack.owner, image.id);
    expect(got.status).toBe(302);
    expect(got.location).toBe(url);
    expect(got.bytes?.equals(data)).toBe(true);
  });

  it('kills the image when the data does not match validation_data (D1); the task says why', async () => {
    const image = await createImage(stack);
    const { key, url } = await putLocation(data);
    const response = await addLocation(image.id, {
      url,
      validation_data: { os_hash_algo: 'sha512', os_hash_value: sha512(other) },
    });
    expect(response.status).toBe(202);
    const { task, execution } = await waitForImport(stack, image.id);
    expect(execution.status).toBe('FAILED');
    expect(task.status).toBe('failure');
    expect(task.message).toContain('os_hash_value');
    const shown = await showImage(stack, image.id);
    expect(shown.status).toBe('killed');
    expect(shown.os_glance_failure_reason).toContain('validation_data');
    expect(shown).not.toHaveProperty(LOCK_PROPERTY);
    expect(await historyOf(stack, image.id)).toEqual(['queued', 'killed']);
    // The service does not own the data: a failure leaves it where it was.
    expect(await objectExists(stack, key)).toBe(true);
  });

  it.each([
    ['a missing S3 object', () => `s3://${stack.bucketName}/locations/${randomUUID()}.raw`, 'no object'],
    ['an http URL answering 404', () => files.url('/missing.raw'), '404'],
  ])('kills the image for %s', async (_what, url, reason) => {
    const image = await createImage(stack);
    expect((await addLocation(image.id, { url: url() })).status).toBe(202);
    const { task } = await waitForImport(stack, image.id);
    expect(task.status).toBe('failure');
    expect(task.message).toContain(reason);
    expect((await showImage(stack, image.id)).status).toBe('killed');
  });

  it('refuses qcow2-declared data that is not qcow2 (the format inspector), killing the image', async () => {
    const image = await createImage(stack, { disk_format: 'qcow2' });
    const { url } = await putLocation(data);
    expect((await addLocation(image.id, { url })).status).toBe(202);
    const { task } = await waitForImport(stack, image.id);
    expect(task.status).toBe('failure');
    expect(task.message).toContain("disk_format 'qcow2'");
    expect((await showImage(stack, image.id)).status).toBe('killed');
  });

  it('an image deleted while its location is being verified stays deleted; the task fails; the data stays', async () => {
    const image = await createImage(stack);
    const { key, url } = await putLocation(data);
    // Hold Verify at its start, and delete the image meanwhile (the task holds the lock).
    injectFault({ step: 'Verify', kind: 'delay', delayMs: 1500, imageId: image.id, at: 'start' });
    expect((await addLocation(image.id, { url })).status).toBe(202);
    const [started] = await imageTasks(stack, image.id, stack.admin);
    for (let i = 0; i < 100 && (await stack.tasks.get(started?.id ?? ''))?.status !== 'processing'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token: stack.owner })).status).toBe(204);
    await stack.stepFunctions.waitFor(started?.id ?? '', 45_000);
    const task = (await stack.api('GET', `/v2/tasks/${started?.id}`, { token: stack.admin })).json;
    expect(task.status).toBe('failure');
    expect(task.message).toContain('no longer exists');
    const record = await stack.images.get(image.id);
    expect(record?.status).toBe('deleted');
    expect(record?.locations ?? []).toEqual([]);
    expect(await objectExists(stack, key)).toBe(true);
  });

  it('of concurrent location adds exactly one wins; the others get 409 and write nothing', async () => {
    const image = await createImage(stack);
    const urls = await Promise.all([
      putLocation(data),
      putLocation(data),
      putLocation(data),
      putLocation(data),
    ]);
    const responses = await Promise.all(urls.map(({ url }) => addLocation(image.id, { url })));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([202, 409, 409, 409]);
    for (const response of responses.filter((r) => r.status === 409)) {
      expect(response.json.error).toMatchObject({ code: 409, title: 'Conflict' });
    }
    const tasks = await imageTasks(stack, image.id, stack.admin);
    expect(tasks).toHaveLength(1);
    const { task } = await waitForImport(stack, image.id);
    expect(task.status).toBe('success');
    const winner = urls[responses.findIndex((r) => r.status === 202)]?.url;
    expect((await stack.images.get(image.id))?.locations).toEqual([{ url: winner, metadata: {} }]);
    // Once active, more adds are 409 too.
    expect((await addLocation(image.id, { url: urls[0]?.url })).status).toBe(409);
  });
});

describe('bad input: Glance-shaped 4xx, nothing written', () => {
  const hash = 'a'.repeat(128);
  const cases: Array<[string, () => unknown, number]> = [
    ['no body fields', () => ({}), 400],
    ['a url that is not a string', () => ({ url: 42 }), 400],
    ['an unknown field', () => ({ url: `s3://${stack.bucketName}/locations/x`, extra: 1 }), 400],
    ['an unsupported scheme', () => ({ url: 'gopher://info.cern.ch/x' }), 400],
    ['a file:// URL', () => ({ url: 'file:///etc/passwd' }), 400],
    ['a bucket outside the allow-list', () => ({ url: 's3://someone-elses-bucket/locations/x.raw' }), 400],
    ['a prefix outside the allow-list', () => ({ url: `s3://${stack.bucketName}/elsewhere/x.raw` }), 400],
    [
      'the service’s own image data',
      () => ({ url: `s3://${stack.bucketName}/images/${randomUUID()}/x` }),
      400,
    ],
    ['staged data', () => ({ url: `s3://${stack.bucketName}/staging/${randomUUID()}/x` }), 400],
    ['an s3 URL naming no object', () => ({ url: `s3://${stack.bucketName}/locations/` }), 400],
    ['the instance metadata endpoint', () => ({ url: 'http://169.254.169.254/latest/meta-data/' }), 400],
    ['a private address', () => ({ url: 'https://10.0.0.1/disk.raw' }), 400],
    ['a URL with credentials', () => ({ url: 'https://user:pw@example.com/disk.raw' }), 400],
    ['a url over 255 characters', () => ({ url: `https://example.com/${'a'.repeat(250)}` }), 400],
    ['validation_data not an object', () => ({ url: files.url('/disk.raw'), validation_data: 'x' }), 400],
    [
      'an unknown hash algorithm',
      () => ({ url: files.url('/disk.raw'), validation_data: { os_hash_algo: 'md5', os_hash_value: hash } }),
      400,
    ],
    [
      'a hash of the wrong length',
      () => ({
        url: files.url('/disk.raw'),
        validation_data: { os_hash_algo: 'sha512', os_hash_value: 'ab' },
      }),
      400,
    ],
    [
      'a hash that is not hex',
      () => ({
        url: files.url('/disk.raw'),
        validation_data: { os_hash_algo: 'sha512', os_hash_value: 'z'.repeat(128) },
      }),
      400,
    ],
    [
      'validation_data without a value',
      () => ({ url: files.url('/disk.raw'), validation_data: { os_hash_algo: 'sha512' } }),
      400,
    ],
    [
      'validation_data with an unknown key',
      () => ({
        url: files.url('/disk.raw'),
        validation_data: { os_hash_algo: 'sha512', os_hash_value: hash, checksum: 'x' },
      }),
      400,
    ],
  ];

  it.each(cases)('%s → %i', async (_what, body, status) => {
    const image = await createImage(stack);
    const before = await stack.images.get(image.id);
    const response = await addLocation(image.id, body());
    expect(response.status).toBe(status);
    expect(response.json.error).toMatchObject({ code: status });
    expect(typeof response.json.error.message).toBe('string');
    expect(await stack.images.get(image.id)).toEqual(before);
    expect(await imageTasks(stack, image.id, stack.admin)).toEqual([]);
  });

  it('a location on an image that is not queued → 409; missing formats → 400; nothing written', async () => {
    const active = await createImage(stack);
    const { url } = await putLocation(data);
    expect((await addLocation(active.id, { url })).status).toBe(202);
    await waitForImport(stack, active.id);
    const before = await stack.images.get(active.id);
    const conflict = await addLocation(active.id, { url });
    expect(conflict.status).toBe(409);
    expect(conflict.json.error.message).toContain('image status is active');
    expect(await stack.images.get(active.id)).toEqual(before);

    const unformatted = (
      await stack.api('POST', '/v2/images', { token: stack.owner, body: { name: 'no formats' } })
    ).json as { id: string };
    const missing = await addLocation(unformatted.id, { url });
    expect(missing.status).toBe(400);
    expect(await imageTasks(stack, unformatted.id, stack.admin)).toEqual([]);
  });

  it('another project cannot see the image (404); a reader cannot add (403); an admin can', async () => {
    const image = await createImage(stack);
    const { url } = await putLocation(data);
    expect((await addLocation(image.id, { url }, stack.other)).status).toBe(404);
    const reader = await stack.tokenFor({ project: 'p-own', roles: ['reader'] });
    expect((await addLocation(image.id, { url }, reader)).status).toBe(403);
    expect((await addLocation(randomUUID(), { url })).status).toBe(404);
    expect(await imageTasks(stack, image.id, stack.admin)).toEqual([]);
    const admin = await addLocation(image.id, { url }, stack.admin);
    expect(admin.status).toBe(202);
    await waitForImport(stack, image.id);
  });
});
