import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ObjectStore } from '#shared/storage/object-store';

/** Records every command; answers like S3 would, optionally failing one command type. */
const fakeS3 = (failOn?: string) => {
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      sent.push({ name, input: command.input });
      if (name === failOn) throw new Error(`${name} failed`);
      if (name === CreateMultipartUploadCommand.name) return { UploadId: 'up-1' };
      if (name === UploadPartCommand.name) return { ETag: `"e${command.input.PartNumber}"` };
      if (name === UploadPartCopyCommand.name)
        return { CopyPartResult: { ETag: `"c${command.input.PartNumber}"` } };
      return {};
    },
  } as unknown as S3Client;
  return { client, sent };
};

async function* chunks(sizes: number[]) {
  for (const size of sizes) yield new Uint8Array(size).fill(1);
}

describe('copy (promote)', () => {
  it('uses one CopyObject up to the single-copy limit, pinned to the verified ETag', async () => {
    const { client, sent } = fakeS3();
    await new ObjectStore(client, 'b').copy('staging/i/t', 'images/i/t', 10, { ifMatch: '"abc"' });
    expect(sent).toEqual([
      {
        name: CopyObjectCommand.name,
        input: { Bucket: 'b', Key: 'images/i/t', CopySource: 'b/staging/i/t', CopySourceIfMatch: '"abc"' },
      },
    ]);
  });

  it('copies larger objects in UploadPartCopy ranges and completes with the parts in order', async () => {
    const { client, sent } = fakeS3();
    await new ObjectStore(client, 'b').copy('staging/i/t', 'images/i/t', 12, {
      singleCopyLimit: 5,
      partSize: 5,
      concurrency: 2,
      ifMatch: '"abc"',
    });
    const parts = sent.filter((c) => c.name === UploadPartCopyCommand.name).map((c) => c.input);
    expect(parts.map((p) => [p.PartNumber, p.CopySourceRange, p.CopySourceIfMatch]).sort()).toEqual([
      [1, 'bytes=0-4', '"abc"'],
      [2, 'bytes=5-9', '"abc"'],
      [3, 'bytes=10-11', '"abc"'],
    ]);
    expect(sent.at(-1)).toEqual({
      name: CompleteMultipartUploadCommand.name,
      input: {
        Bucket: 'b',
        Key: 'images/i/t',
        UploadId: 'up-1',
        MultipartUpload: {
          Parts: [
            { ETag: '"c1"', PartNumber: 1 },
            { ETag: '"c2"', PartNumber: 2 },
            { ETag: '"c3"', PartNumber: 3 },
          ],
        },
      },
    });
  });

  it('never needs more than 10,000 parts', async () => {
    const { client, sent } = fakeS3();
    const size = 5 * 1024 ** 4;
    await new ObjectStore(client, 'b').copy('s', 'd', size, { concurrency: 64 });
    expect(sent.filter((c) => c.name === UploadPartCopyCommand.name).length).toBeLessThanOrEqual(10_000);
  });

  it('aborts the multipart upload when a part fails', async () => {
    const { client, sent } = fakeS3(UploadPartCopyCommand.name);
    await expect(
      new ObjectStore(client, 'b').copy('s', 'd', 12, { singleCopyLimit: 5, partSize: 5 }),
    ).rejects.toThrow(/UploadPartCopyCommand failed/);
    expect(sent.at(-1)?.name).toBe(AbortMultipartUploadCommand.name);
  });
});

describe('upload (web-download)', () => {
  it('puts a stream that fits in one part with a single PutObject', async () => {
    const { client, sent } = fakeS3();
    expect(await new ObjectStore(client, 'b').upload('k', chunks([3, 4]), { partSize: 10 })).toBe(7);
    expect(sent.map((c) => c.name)).toEqual([PutObjectCommand.name]);
    expect(sent[0]?.input.ContentLength).toBe(7);
  });

  it('streams a longer one as a multipart upload, one part in memory at a time', async () => {
    const { client, sent } = fakeS3();
    expect(await new ObjectStore(client, 'b').upload('k', chunks([6, 6, 6, 1]), { partSize: 10 })).toBe(19);
    expect(sent.map((c) => c.name)).toEqual([
      CreateMultipartUploadCommand.name,
      UploadPartCommand.name,
      UploadPartCommand.name,
      CompleteMultipartUploadCommand.name,
    ]);
    expect(sent.at(-1)?.input.MultipartUpload).toEqual({
      Parts: [
        { ETag: '"e1"', PartNumber: 1 },
        { ETag: '"e2"', PartNumber: 2 },
      ],
    });
  });

  it('aborts the multipart upload when the stream fails (e.g. over the cap)', async () => {
    const { client, sent } = fakeS3();
    async function* failing() {
      yield new Uint8Array(12);
      throw new Error('too large');
    }
    await expect(new ObjectStore(client, 'b').upload('k', failing(), { partSize: 10 })).rejects.toThrow(
      'too large',
    );
    expect(sent.map((c) => c.name)).toEqual([
      CreateMultipartUploadCommand.name,
      UploadPartCommand.name,
      AbortMultipartUploadCommand.name,
    ]);
  });
});

describe('deleteImageObjects', () => {
  /** Lists one object under each prefix; DeleteObjects refuses the keys in `refused`. */
  const bucketWith = (refused: string[]) => {
    const deletes: string[][] = [];
    const client = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        if (command.constructor.name === 'ListObjectsV2Command') {
          return { Contents: [{ Key: `${command.input.Prefix}data` }], IsTruncated: false };
        }
        const keys = (command.input.Delete as { Objects: { Key: string }[] }).Objects.map((o) => o.Key);
        deletes.push(keys);
        return {
          Errors: keys.filter((key) => refused.includes(key)).map((Key) => ({ Key, Code: 'AccessDenied' })),
        };
      },
    } as unknown as S3Client;
    return { client, deletes };
  };

  it('deletes what is under every prefix of the image and counts it', async () => {
    const { client, deletes } = bucketWith([]);
    expect(await new ObjectStore(client, 'b').deleteImageObjects({ id: 'i', upload: null })).toBe(
      deletes.flat().length,
    );
    expect(deletes.flat().length).toBeGreaterThan(0);
  });

  it('tries every prefix, then throws when S3 refused any key, so a caller that can come back does', async () => {
    const { client, deletes } = bucketWith(['images/i/data']);
    await expect(new ObjectStore(client, 'b').deleteImageObjects({ id: 'i', upload: null })).rejects.toThrow(
      '1 object(s) of image i could not be deleted.',
    );
    expect(deletes.flat()).toContain('images/i/data');
    expect(deletes.length).toBeGreaterThan(1);
  });
});
