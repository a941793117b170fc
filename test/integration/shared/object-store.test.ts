/**
 * The object store's ranged read against s3rver (with the local stack's `If-Match` support,
 * infra/local/s3-conditional-reads.ts, which makes it answer as S3 does): ranges reassembled in
 * order, pinned to one version of the object, missing and empty objects; range buffers reused
 * under a consumer done with each chunk before the next (the verify pass).
 */
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulators, startEmulators } from '#infra/local/emulators';
import { verifyData } from '#shared/data/verify';
import { createS3Client } from '#shared/runtime';
import { isPreconditionFailed, ObjectStore } from '#shared/storage/object-store';

let emulators: Emulators;
let s3: S3Client;
let store: ObjectStore;

beforeAll(async () => {
  emulators = await startEmulators({ tableName: 'object-store', bucketName: 'object-store' });
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  s3 = createS3Client(emulators.s3Endpoint);
  store = new ObjectStore(s3, emulators.bucketName);
});
afterAll(async () => {
  s3.destroy();
  await emulators.stop();
});

const put = async (key: string, body: Uint8Array) => {
  const { ETag } = await s3.send(
    new PutObjectCommand({ Bucket: emulators.bucketName, Key: key, Body: body }),
  );
  return ETag ?? '';
};

const opened = async (key: string, options?: Parameters<ObjectStore['openRanged']>[1]) => {
  const object = await store.openRanged(key, options);
  if (!object) throw new Error(`no object ${key}`);
  return object;
};

const readAll = async (chunks: AsyncIterable<Uint8Array>) => {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return { bytes: Buffer.concat(parts), count: parts.length };
};

describe('If-Match on reads (local S3 as AWS)', () => {
  it('GET and HEAD answer 412 for another ETag and serve the object for its own', async () => {
    const etag = await put('images/a/if-match', Buffer.from('version one'));
    const get = (IfMatch: string) =>
      s3.send(new GetObjectCommand({ Bucket: emulators.bucketName, Key: 'images/a/if-match', IfMatch }));
    expect(await (await get(etag)).Body?.transformToString()).toBe('version one');
    expect(await (await get(etag.replace(/"/g, ''))).Body?.transformToString()).toBe('version one');
    await expect(get('"0123"')).rejects.toSatisfy(isPreconditionFailed);
    await expect(
      s3.send(
        new HeadObjectCommand({ Bucket: emulators.bucketName, Key: 'images/a/if-match', IfMatch: '"0123"' }),
      ),
    ).rejects.toSatisfy(isPreconditionFailed);
  });
});

describe('ObjectStore.openRanged', () => {
  it('reads an object in ranges, in order, with its size and ETag', async () => {
    const data = randomBytes(1_000_003);
    const etag = await put('images/a/ranged', data);
    const object = await opened('images/a/ranged', { rangeBytes: 64 * 1024, window: 4 });
    expect(object).toMatchObject({ size: data.byteLength, etag });
    const read = await readAll(object.chunks());
    expect(read.count).toBe(Math.ceil(data.byteLength / (64 * 1024)));
    expect(read.bytes.equals(data)).toBe(true);
  });

  it('with reuseBuffers fills at most window + 1 buffers over and over, the bytes still whole and in order', async () => {
    const data = randomBytes(1_000_003);
    await put('images/a/reused', data);
    const object = await opened('images/a/reused', { rangeBytes: 64 * 1024, window: 4, reuseBuffers: true });
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const chunk of object.chunks()) {
      buffers.add(chunk.buffer);
      copies.push(Buffer.from(chunk));
    }
    expect(copies).toHaveLength(Math.ceil(data.byteLength / (64 * 1024)));
    expect(Buffer.concat(copies).equals(data)).toBe(true);
    expect(buffers.size).toBeLessThanOrEqual(4 + 1);
    // Without it, every range is a buffer of its own that the consumer may keep.
    const kept = await readAll(
      (await opened('images/a/reused', { rangeBytes: 64 * 1024, window: 4 })).chunks(),
    );
    expect(kept.bytes.equals(data)).toBe(true);
  });

  it('with reuseBuffers gives the verify pass the digests of the whole object', async () => {
    const data = randomBytes(20 * 1024 ** 2 + 5);
    await put('images/a/verified', data);
    const object = await opened('images/a/verified', {
      rangeBytes: 1024 ** 2,
      window: 3,
      reuseBuffers: true,
    });
    const { digest } = await verifyData(object.chunks, { expectedBytes: object.size });
    expect(digest).toMatchObject({
      size: data.byteLength,
      checksum: createHash('md5').update(data).digest('hex'),
      os_hash_value: createHash('sha512').update(data).digest('hex'),
    });
  });

  it('is undefined for a missing object, empty for an empty one, 412 for another version', async () => {
    expect(await store.openRanged('images/a/none')).toBeUndefined();
    await put('images/a/empty', new Uint8Array(0));
    const empty = await opened('images/a/empty');
    expect(empty.size).toBe(0);
    expect((await readAll(empty.chunks())).count).toBe(0);
    await put('images/a/versioned', Buffer.from('one'));
    await expect(store.openRanged('images/a/versioned', { ifMatch: '"0123"' })).rejects.toSatisfy(
      isPreconditionFailed,
    );
  });

  it('fails with 412 when the object is replaced during the read, never mixing two versions', async () => {
    const first = randomBytes(300_000);
    await put('images/a/replaced', first);
    const object = await opened('images/a/replaced', { rangeBytes: 50_000, window: 1 });
    const chunks = object.chunks()[Symbol.asyncIterator]();
    expect((await chunks.next()).value).toEqual(first.subarray(0, 50_000));
    await put('images/a/replaced', randomBytes(300_000));
    await expect(readAll({ [Symbol.asyncIterator]: () => chunks })).rejects.toSatisfy(isPreconditionFailed);
  });

  it('stops early without leaving requests behind', async () => {
    await put('images/a/early', randomBytes(500_000));
    const object = await opened('images/a/early', { rangeBytes: 10_000, window: 8 });
    for await (const chunk of object.chunks()) {
      expect(chunk.byteLength).toBe(10_000);
      break;
    }
    // The same client still works: no socket was left hanging on an abandoned body.
    expect((await store.head('images/a/early'))?.size).toBe(500_000);
  });
});
