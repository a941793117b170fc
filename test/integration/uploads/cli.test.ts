/**
 * The upload CLI (bin/upload/, bin/cli.ts) against the local stack: a multipart upload with
 * URLs in batches, an interrupted upload resumed from its state file, a kill reported with its
 * reason, and the real `npx serverless-glance` bin once.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadFailed, type UploadOptions } from '#bin/upload/options';
import { uploadImage } from '#bin/upload/upload-image';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import { createImage, download, md5, randomData, sha512, showImage } from './helpers.ts';

const PART = 100_000;
let stack: TestStack;
let token: string;
let dir: string;

beforeAll(async () => {
  Object.assign(process.env, {
    MULTIPART_THRESHOLD_BYTES: '200000',
    MULTIPART_PART_SIZE_BYTES: String(PART),
    PRESIGN_MAX_PART_URLS: '4',
  });
  stack = await startTestStack();
  token = await stack.tokenFor({ project: 'p-cli', roles: ['member'] });
  dir = await mkdtemp(join(tmpdir(), 'glance-cli-'));
});
afterAll(async () => {
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
});

const output = () => {
  const lines: string[] = [];
  return { write: (text: string) => void lines.push(text), isTTY: false, text: () => lines.join('') };
};

const options = (imageId: string, file: string, extra: Partial<UploadOptions> = {}): UploadOptions => ({
  imageId,
  file,
  url: stack.url,
  token,
  kind: 'file',
  concurrency: 3,
  wait: true,
  waitTimeoutMs: 10_000,
  ...extra,
});

describe('serverless-glance upload', () => {
  it('uploads 10 parts in parallel with a progress bar, waits for active, and cleans its state', async () => {
    const data = randomData(10 * PART - 1234);
    const file = join(dir, 'ten.img');
    await writeFile(file, data);
    const image = await createImage(stack, token);
    const out = output();
    const result = await uploadImage(options(image.id, file), out);
    expect(result).toMatchObject({ resumed: false, partsSent: 10, bytesSent: data.length });
    expect(result.image).toMatchObject({
      status: 'active',
      checksum: md5(data),
      os_hash_value: sha512(data),
    });
    expect(out.text()).toContain('in 10 parts of 97.7 KiB, 3 at a time');
    expect(out.text()).toMatch(/\[#{30}\] 100\.0%/);
    expect((await readdir(dir)).filter((name) => name.endsWith('.glance-upload.json'))).toEqual([]);
    expect((await download(stack, token, image.id)).bytes?.equals(data)).toBe(true);
  });

  it('resumes an interrupted multipart upload, sending only the missing parts', async () => {
    const data = randomData(8 * PART);
    const file = join(dir, 'resume.img');
    await writeFile(file, data);
    const image = await createImage(stack, token);
    const controller = new AbortController();
    let finished = 0;
    const first = uploadImage(
      options(image.id, file, {
        concurrency: 1,
        signal: controller.signal,
        onPart: () => {
          if (++finished === 3) controller.abort(new Error('interrupted'));
        },
      }),
      output(),
    );
    await expect(first).rejects.toThrow();
    const stateFile = join(dir, `.resume.img.${image.id}.glance-upload.json`);
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(Object.keys(state.etags)).toEqual(['1', '2', '3']);
    expect((await showImage(stack, token, image.id)).status).toBe('saving');

    const out = output();
    const second = await uploadImage(options(image.id, file), out);
    expect(out.text()).toContain('3 of 8 part(s) already sent');
    expect(second).toMatchObject({ resumed: true, partsSent: 5, bytesSent: 5 * PART });
    expect(second.image).toMatchObject({
      status: 'active',
      checksum: md5(data),
      os_hash_value: sha512(data),
    });
  });

  it('starts over when the state no longer matches the file', async () => {
    const file = join(dir, 'changed.img');
    await writeFile(file, randomData(3 * PART));
    const image = await createImage(stack, token);
    await writeFile(
      join(dir, `.changed.img.${image.id}.glance-upload.json`),
      JSON.stringify({ version: 1, imageId: image.id, size: 1, uploadId: 'x', etags: {} }),
    );
    const result = await uploadImage(options(image.id, file), output());
    expect(result).toMatchObject({ resumed: false, partsSent: 3 });
  });

  it('reports a killed image with its reason', async () => {
    const file = join(dir, 'not-qcow2.img');
    // Not random: random bytes could carry a disk format's signature (0x55 0xaa at 510: an MBR).
    await writeFile(file, Buffer.alloc(50_000, 'not a disk image '));
    const image = await createImage(stack, token, { disk_format: 'qcow2' });
    const failure = await uploadImage(options(image.id, file), output()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UploadFailed);
    expect((failure as Error).message).toBe(
      `Image ${image.id} was killed: Image disk_format 'qcow2' does not match the data, which carries no known disk format header (raw).`,
    );
  });

  it('stages with --stage', async () => {
    const data = randomData(3 * PART);
    const file = join(dir, 'stage.img');
    await writeFile(file, data);
    const image = await createImage(stack, token, { disk_format: undefined, container_format: undefined });
    const result = await uploadImage(options(image.id, file, { kind: 'stage' }), output());
    expect(result.image).toMatchObject({ status: 'uploading', size: data.length });
  });

  it('runs as `npx serverless-glance upload` and prints the checksum and hash', async () => {
    const data = randomData(3 * PART + 7);
    const file = join(dir, 'npx.img');
    await writeFile(file, data);
    const image = await createImage(stack, token);
    const { stdout, stderr } = await promisify(execFile)(
      'npx',
      ['serverless-glance', 'upload', image.id, file, '--url', stack.url, '--concurrency', '2'],
      { env: { ...process.env, OS_AUTH_TOKEN: token }, timeout: 60_000 },
    );
    expect(stdout).toContain(`checksum       ${md5(data)}`);
    expect(stdout).toContain(`os_hash_value  ${sha512(data)}`);
    expect(stdout).toContain('status         active');
    expect(stderr).toContain('100.0%');
  });
});
