/**
 * The asynchronous half of `.../complete` (shared/uploads/complete.ts) against an in-memory image
 * and object store: what it completes, what it leaves alone (a no-op, so Lambda does not retry),
 * what it refuses (the image back to queued, the parts aborted, no retry) and what it throws for
 * Lambda to retry.
 */
import type { Part } from '@aws-sdk/client-s3';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { ImageRecord, PendingUpload } from '#shared/images/model';
import { ImageConflict, type TransitionOptions } from '#shared/images/repository';
import type { ImageDecision } from '#shared/status-rules';
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

/**
 * An image and a store; `complete` may fail as S3 would, and each transition may first lose its
 * race to the next of `raced` (the image as the winner left it, or undefined when deleted).
 */
const world = (options: {
  image?: ImageRecord;
  parts?: Part[] | Error;
  complete?: (Error | undefined)[];
  raced?: (ImageRecord | undefined)[];
}) => {
  const completed: {
    key: string;
    uploadId: string;
    parts: readonly { partNumber: number; etag: string }[];
  }[] = [];
  const transitions: { status: string; to: string; options: TransitionOptions }[] = [];
  const aborted: { key: string; uploadId: string }[] = [];
  const failures = [...(options.complete ?? [])];
  const races = [...(options.raced ?? [])];
  return {
    completed,
    transitions,
    aborted,
    ctx: {
      images: {
        get: async (id: string) => (id === ID ? options.image : undefined),
        transition: async (current: ImageRecord, decision: ImageDecision, transition: TransitionOptions) => {
          if (races.length) {
            const winner = races.shift();
            throw new ImageConflict('changed by another request', winner);
          }
          if (decision.kind === 'noop') return current;
          transitions.push({ status: current.status, to: decision.to, options: transition });
          return { ...current, status: decision.to, upload: null };
        },
      },
      store: {
        abortMultipart: async (key: string, uploadId: string) => {
          aborted.push({ key, uploadId });
        },
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
  ])(
    'gives up what S3 refuses (%s): the image back to queued with why, the parts aborted',
    async (name, status) => {
      const { ctx, transitions, aborted } = world({ image: image(), complete: [s3Error(name, status)] });
      expect(await finishCompletion(ctx, request)).toBe('refused');
      expect(transitions).toEqual([
        {
          status: 'saving',
          to: 'queued',
          options: {
            actor: 'system:complete-upload',
            reason: `S3 refused the parts of upload ${UPLOAD}: ${name}.`,
            set: { upload: null },
          },
        },
      ]);
      expect(aborted).toEqual([{ key: upload.key, uploadId: 'mpu-1' }]);
    },
  );

  it.each<[string, Part[], string]>([
    ['a part is missing', [part(1), part(3)], 'has parts 1, 3; its plan has 3'],
    ['a part beyond the plan', [part(1), part(2), part(3), part(4)], 'has parts 1, 2, 3, 4; its plan has 3'],
  ])('gives up parts that do not match the plan (%s) without assembling them', async (_, parts, why) => {
    const { ctx, completed, transitions, aborted } = world({ image: image(), parts });
    expect(await finishCompletion(ctx, request)).toBe('refused');
    expect(completed).toEqual([]);
    expect(transitions).toMatchObject([{ to: 'queued', options: { reason: expect.stringContaining(why) } }]);
    expect(aborted).toHaveLength(1);
  });

  it('gives up a refused upload on the fresh image when an edit won the race', async () => {
    const { ctx, transitions, aborted } = world({
      image: image(),
      parts: [part(1)],
      raced: [image({ version: 3 })],
    });
    expect(await finishCompletion(ctx, request)).toBe('refused');
    expect(transitions).toMatchObject([{ status: 'saving', to: 'queued' }]);
    expect(aborted).toHaveLength(1);
  });

  it.each<[string, ImageRecord | undefined]>([
    ['was swept meanwhile', image({ status: 'queued', upload: null, version: 3 })],
    ['was deleted meanwhile', undefined],
  ])('leaves a refused upload alone when its image %s', async (_, winner) => {
    const { ctx, transitions, aborted } = world({ image: image(), parts: [part(1)], raced: [winner] });
    expect(await finishCompletion(ctx, request)).toBe('not-pending');
    expect(transitions).toEqual([]);
    expect(aborted).toEqual([]);
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
