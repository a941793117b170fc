/**
 * python-glanceclient against the local stack: `glance image-upload`, `image-create --file`,
 * `image-stage` and `image-download` (which follows the 302 to S3 and verifies the sha512 of the
 * data against the image's `os_hash_value`). Skipped when /usr/bin/glance is not installed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import { createImage, md5, randomData, sha512, showImage } from './helpers.ts';

const GLANCE = '/usr/bin/glance';
const installed = existsSync(GLANCE);
if (!installed)
  console.warn(`${GLANCE} not found: python-glanceclient tests skipped (apt install python3-glanceclient).`);

const run = promisify(execFile);

let stack: TestStack;
let token: string;
let dir: string;

beforeAll(async () => {
  if (!installed) return;
  stack = await startTestStack();
  token = await stack.tokenFor({ project: 'p-glance', roles: ['member', 'reader'] });
  dir = await mkdtemp(join(tmpdir(), 'glanceclient-'));
});
afterAll(async () => {
  if (!installed) return;
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the glance CLI; stdin is closed so that image-create does not read image data from it. */
const glance = (...args: string[]) =>
  run(
    'bash',
    ['-c', `"$@" <&-`, 'glance', GLANCE, '--os-image-url', stack.url, '--os-auth-token', token, ...args],
    {
      timeout: 30_000,
    },
  );

const idFrom = (table: string) => /\|\s+id\s+\|\s+([0-9a-f-]{36})/.exec(table)?.[1] ?? '';

describe.skipIf(!installed)('python-glanceclient', () => {
  it('image-upload and image-download round-trip a 4 MB file with the right hashes', async () => {
    const data = randomData(4_000_000);
    const file = join(dir, 'upload.img');
    await writeFile(file, data);
    const image = await createImage(stack, token);
    await glance('image-upload', '--file', file, image.id);
    expect(await showImage(stack, token, image.id)).toMatchObject({
      status: 'active',
      size: data.length,
      checksum: md5(data),
      os_hash_value: sha512(data),
    });
    const out = join(dir, 'download.img');
    await glance('image-download', '--file', out, image.id);
    expect((await readFile(out)).equals(data)).toBe(true);
  });

  it('image-create --file creates an active image', async () => {
    const data = randomData(100_000);
    const file = join(dir, 'create.img');
    await writeFile(file, data);
    const { stdout } = await glance(
      'image-create',
      '--name',
      'from-cli',
      '--disk-format',
      'raw',
      '--container-format',
      'bare',
      '--file',
      file,
    );
    const id = idFrom(stdout);
    expect(await showImage(stack, token, id)).toMatchObject({ status: 'active', checksum: md5(data) });
  });

  it('image-stage leaves the image uploading with its size', async () => {
    const data = randomData(50_000);
    const file = join(dir, 'stage.img');
    await writeFile(file, data);
    const { stdout } = await glance('image-create', '--name', 'staged');
    const id = idFrom(stdout);
    await glance('image-stage', '--file', file, id);
    expect(await showImage(stack, token, id)).toMatchObject({ status: 'uploading', size: data.length });
  });

  it('reports an image without data (204) and a second upload (409) as Glance does', async () => {
    const image = await createImage(stack, token);
    const out = join(dir, 'none.img');
    await expect(glance('image-download', '--file', out, image.id)).rejects.toMatchObject({
      stderr: expect.stringContaining(`Image ${image.id} has no data.`),
    });
    const file = join(dir, 'upload-twice.img');
    await writeFile(file, randomData(10));
    await glance('image-upload', '--file', file, image.id);
    await expect(glance('image-upload', '--file', file, image.id)).rejects.toMatchObject({
      stderr: expect.stringContaining("'uploadStart' is not allowed"),
    });
  });

  it('refuses a body over the Lambda request limit with 413 and leaves the image queued', async () => {
    const file = join(dir, 'big.img');
    await writeFile(file, randomData(6_000_000));
    const image = await createImage(stack, token);
    await expect(glance('image-upload', '--file', file, image.id)).rejects.toMatchObject({
      stderr: expect.stringMatching(/413|larger than/),
    });
    expect((await showImage(stack, token, image.id)).status).toBe('queued');
  });
});
