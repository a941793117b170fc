/** Helpers for the data-path tests (test/integration/uploads). */
import { createHash, randomBytes } from 'node:crypto';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/emulators';
import type { TestStack } from '#test/helpers/local-stack';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields.
export type Json = any;

export const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex');
export const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest('hex');
/**
 * Random bytes that carry no disk format's signature: one in 65,536 random buffers would have
 * 0x55 0xaa at byte 510 and be taken for an MBR disk (longer signatures are left to chance).
 */
export const randomData = (size: number) => {
  const bytes = randomBytes(size);
  if (size > 510) bytes[510] = 0;
  return bytes;
};

export const s3Of = (stack: TestStack) =>
  new S3Client({
    endpoint: stack.s3Endpoint,
    forcePathStyle: true,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });

export const createImage = async (
  stack: TestStack,
  token: string,
  body: Record<string, unknown> = {},
): Promise<{ id: string } & Json> => {
  const response = await stack.api('POST', '/v2/images', {
    token,
    body: { name: 'data', disk_format: 'raw', container_format: 'bare', ...body },
  });
  expect(response.status).toBe(201);
  return response.json;
};

export const showImage = async (stack: TestStack, token: string, id: string): Promise<Json> => {
  const response = await stack.api('GET', `/v2/images/${id}`, { token });
  expect(response.status).toBe(200);
  return response.json;
};

export const historyOf = async (stack: TestStack, token: string, id: string): Promise<Json[]> => {
  const response = await stack.api('GET', `/v2/images/${id}/history`, { token });
  expect(response.status).toBe(200);
  return response.json.history;
};

/** Polls the image until `done(image)` holds (or fails after `timeoutMs`). */
export const waitForImage = async (
  stack: TestStack,
  token: string,
  id: string,
  done: (image: Json) => boolean,
  timeoutMs = 10_000,
): Promise<Json> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const image = await showImage(stack, token, id);
    if (done(image)) return image;
    if (Date.now() > end) throw new Error(`image ${id} stuck in ${image.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

export const uploadDirect = (stack: TestStack, token: string, id: string, data: Uint8Array, kind = 'file') =>
  stack.api('PUT', `/v2/images/${id}/${kind}`, {
    token,
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });

/** Follows a presigned URL the way a client does. */
export const putTo = (url: string, data: Uint8Array, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'PUT', body: data, headers });

/** GET /file and follow the redirect; the bytes and both responses. */
export const download = async (stack: TestStack, token: string, id: string) => {
  const first = await fetch(`${stack.url}/v2/images/${id}/file`, {
    headers: { 'x-auth-token': token },
    redirect: 'manual',
  });
  if (first.status !== 302) return { redirect: first, status: first.status, bytes: undefined };
  const location = first.headers.get('location') ?? '';
  const data = await fetch(location);
  expect(data.status).toBe(200);
  return { redirect: first, status: 302, bytes: Buffer.from(await data.arrayBuffer()), location };
};

export const objectExists = async (s3: S3Client, bucket: string, key: string) => {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
};

export const keysUnder = async (s3: S3Client, bucket: string, prefix: string): Promise<string[]> => {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((object) => object.Key ?? '');
};

/** Waits until `check()` is true. */
export const eventually = async (check: () => Promise<boolean>, timeoutMs = 10_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** The scope of a SigV4 presigned URL, read from the URL itself (s3rver does not verify it). */
export const urlScope = (url: string) => {
  const parsed = new URL(url);
  const query = parsed.searchParams;
  const date = query.get('X-Amz-Date') ?? '';
  const signedAt = Date.UTC(
    Number(date.slice(0, 4)),
    Number(date.slice(4, 6)) - 1,
    Number(date.slice(6, 8)),
    Number(date.slice(9, 11)),
    Number(date.slice(11, 13)),
    Number(date.slice(13, 15)),
  );
  return {
    path: decodeURIComponent(parsed.pathname),
    expiresIn: Number(query.get('X-Amz-Expires')),
    signedAt,
    signedHeaders: (query.get('X-Amz-SignedHeaders') ?? '').split(';'),
    partNumber: query.get('partNumber'),
    uploadId: query.get('uploadId'),
    signature: query.get('X-Amz-Signature'),
  };
};
