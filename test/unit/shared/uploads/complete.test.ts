/**
 * The asynchronous half of `.../complete` (shared/uploads/complete.ts) against an in-memory image
 * and object store: what it completes, what it leaves alone (a no-op, so Lambda does not retry),
 * what it refuses (thrown, into the on-failure queue) and what it throws for Lambda to retry.
 */
import type { Part } from '@aws-sdk/client-s3';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { ImageRecord, PendingUpload } from '#shared/images/model';
import {
  CompletionRefused,
  type CompletionRequest,
  finishCompletion,
  parseCompletionRequest,
} from '#shared/uploads/complete';

const ID = '6a3f0b8e-2c1d-4e5f-8a9b-0c1d2e3f4a5b';
const UPLOAD = '0b7c3d1e-9f2a-4c5b-8d6e-7f8091a2b3c4';
const upload: PendingUpload = {
  kind: 'file',
  key: `images/${ID}/${UPLOAD}`,
  declared_size: 250,
  deadline: '2099-01-01T00:00:00.000Z',
  multipart_upload_id: 'mpu-1',
  part_size: 100,
  started_at: '2026-01-01T00:00:00.000Z',
};

const image = (overrides: Partial<ImageRecord> = {}): ImageRecord =>
  ({
    id: ID,
    owner: 'p',
    visibility: 'private',
    status: 'saving',
    disk_format: 'raw',
    container_format: 'bare',
    upload,
    version: 2,
    ...overrides,
  }) as ImageRecord;

const s3Error = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

const part = (n: number): Part => ({ PartNumber: n, ETag: `"etag-${n}"`, Size: n < 3 ? 100 : 50 });

/** An image and a store; `complete` may fail as S3 would. */
const world = (options: {
  image?: ImageRecord;
  parts?: Part[] | Error;
  complete?: (Error | undefined)[];
}) => {
  const completed: {
    key: string;
    uploadId: string;
    parts: readonly { partNumber: number; etag: string }[];
  }[] = [];
  const failures = [...(options.complete ?? [])];
  return {
    completed,
    ctx: {
      images: { get: async (id: string) => (id === ID ? options.image : undefined) },
      store: {
        listParts: async () => {
          if (options.parts instanceof Error) throw options.parts;
          return options.parts ?? [part(3), part(1), part(2)];
        },
        completeMultipartUpload: async (
          key: string,
          uploadId: string,
          parts: readonly { partNumber: number; etag: string }[],
        ) => {
          const failure = failures.shift();
          if (failure) throw failure;
          completed.push({ key, uploadId, parts });
        },
      },
    },
  };
};

const request: CompletionRequest = { image_id: ID, kind: 'file', upload_id: UPLOAD };

describe('finishCompletion', () => {
  it('completes the pending upload with the parts S3 holds, in order', async () => {
    const { ctx, completed } = world({ image: image() });
    expect(await finishCompletion(ctx, request)).toBe('completed');
    expect(completed).toEqual([
      {
        key: upload.key,
        uploadId: 'mpu-1',
        parts: [1, 2, 3].map((n) => ({ partNumber: n, etag: `etag-${n}` })),
      },
    ]);
  });

  it.each<[string, ImageRecord | undefined, CompletionRequest]>([
    ['the image is gone', undefined, request],
    ['the upload was swept (queued, no upload)', image({ status: 'queued', upload: null }), request],
    ['the image is active (finalised)', image({ status: 'active', upload: null }), request],
    ['another upload is pending', image({ upload: { ...upload, key: `images/${ID}/other` } }), request],
    ['the request names the other kind', image(), { ...request, kind: 'stage' }],
    ['the upload is a single PUT', image({ upload: { ...upload, multipart_upload_id: undefined } }), request],
  ])('does nothing when %s', async (_, current, asked) => {
    const { ctx, completed } = world({ image: current });
    expect(await finishCompletion(ctx, asked)).toBe('not-pending');
    expect(completed).toEqual([]);
  });

  it('does nothing when S3 no longer has the multipart upload (completed before, or aborted)', async () => {
    const { ctx, completed } = world({ image: image(), parts: s3Error('NoSuchUpload', 404) });
    expect(await finishCompletion(ctx, request)).toBe('gone');
    expect(completed).toEqual([]);
  });

  it.each([
    ['NoSuchUpload', 404],
    ['PreconditionFailed', 412],
  ])('counts %s from CompleteMultipartUpload as done by another invocation', async (name, status) => {
    const { ctx } = world({ image: image(), complete: [s3Error(name, status)] });
    expect(await finishCompletion(ctx, request)).toBe('gone');
  });

  it.each([
    ['InvalidPart', 400],
    ['InvalidPartOrder', 400],
    ['EntityTooSmall', 400],
  ])('refuses what S3 refuses (%s): no retry can help', async (name, status) => {
    const { ctx } = world({ image: image(), complete: [s3Error(name, status)] });
    const error = await finishCompletion(ctx, request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompletionRefused);
    expect((error as Error).message).toContain(name);
  });

  it.each<[string, Part[]]>([
    ['a part is missing', [part(1), part(3)]],
    ['a part beyond the plan', [part(1), part(2), part(3), part(4)]],
  ])('refuses to assemble parts that do not match the plan (%s)', async (_, parts) => {
    const { ctx, completed } = world({ image: image(), parts });
    await expect(finishCompletion(ctx, request)).rejects.toBeInstanceOf(CompletionRefused);
    expect(completed).toEqual([]);
  });

  it("throws what S3 fails with otherwise, so Lambda's retry completes", async () => {
    const { ctx, completed } = world({
      image: image(),
      complete: [
        new S3ServiceException({
          name: 'InternalError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
          message: 'We encountered an internal error.',
        }),
      ],
    });
    await expect(finishCompletion(ctx, request)).rejects.toMatchObject({ name: 'InternalError' });
    expect(completed).toEqual([]);
    expect(await finishCompletion(ctx, request)).toBe('completed');
    expect(completed).toHaveLength(1);
  });
});

describe('parseCompletionRequest', () => {
  it('takes the image id, the kind and the upload id', () => {
    expect(parseCompletionRequest({ ...request, extra: 1 })).toEqual(request);
  });

  it.each([null, {}, { ...request, kind: 'other' }, { ...request, image_id: 1 }, 'text'])(
    'refuses %j',
    (event) => {
      expect(() => parseCompletionRequest(event)).toThrow(CompletionRefused);
    },
  );
});
