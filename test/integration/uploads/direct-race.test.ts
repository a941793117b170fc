/**
 * The direct upload racing its own S3 trigger, made deterministic: with `LOCAL_FINALISER=off` the
 * stack delivers no events, and the test's S3 client runs the trigger's `finaliseUpload` for the
 * object right after PutObject stored it, before `directUpload` finalises synchronously, which is
 * the order in which the trigger wins on AWS.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, Request } from '#shared/http/handler';
import type { UploadKind } from '#shared/storage/bucket';
import { ObjectStore } from '#shared/storage/object-store';
import type { UploadContext } from '#shared/uploads/context';
import { member } from '#test/helpers/images';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import { createImage, historyOf, keysUnder, md5, randomData, s3Of, showImage } from './helpers.ts';

let stack: TestStack;
let owner: string;
let ctx: UploadContext;
const PROJECT = 'p-race';

beforeAll(async () => {
  process.env.LOCAL_FINALISER = 'off';
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: PROJECT, roles: ['member'] });
  ctx = (await import('#shared/runtime')).uploadContext();
});
afterAll(() => stack.stop());

/** `ctx` whose PutObject is followed at once by the S3 trigger's finalisation (with `trigger`'s view). */
const triggerWinsWith = async (trigger: UploadContext): Promise<UploadContext> => {
  const { finaliseUpload } = await import('#shared/uploads/finalise');
  const { TRIGGER_ACTOR } = await import('#shared/uploads/context');
  const send = async (command: Parameters<S3Client['send']>[0]) => {
    const output = await ctx.store.s3.send(command);
    if (command instanceof PutObjectCommand) {
      await finaliseUpload(trigger, { key: command.input.Key ?? '' }, { actor: TRIGGER_ACTOR });
    }
    return output;
  };
  return { ...ctx, store: new ObjectStore({ send } as unknown as S3Client, ctx.store.bucket) };
};

const upload = async (racing: UploadContext, id: string, data: Uint8Array, kind: UploadKind) => {
  const { directUpload } = await import('#shared/uploads/direct');
  const request: Request = {
    event: {} as ApiEvent,
    caller: member(PROJECT, `user-${PROJECT}`),
    path: { image_id: id },
    query: new URLSearchParams(),
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    requestId: 'req-00000000-0000-4000-8000-000000000000',
    body: Buffer.from(data),
  };
  return directUpload(racing, request, kind);
};

describe('a direct upload whose S3 trigger finalises first', () => {
  it('answers 204 when the trigger activated the image with this data', async () => {
    const data = randomData(2000);
    const image = await createImage(stack, owner);
    await expect(upload(await triggerWinsWith(ctx), image.id, data, 'file')).resolves.toBeUndefined();
    expect(await showImage(stack, owner, image.id)).toMatchObject({
      status: 'active',
      size: data.length,
      checksum: md5(data),
    });
    const history = await historyOf(stack, owner, image.id);
    expect(history.filter((entry) => entry.to === 'active')).toEqual([
      expect.objectContaining({ from: 'saving', actor: 'system:s3-trigger' }),
    ]);
  });

  it('answers 204 when the trigger staged this data', async () => {
    const data = randomData(1500);
    const image = await createImage(stack, owner);
    await expect(upload(await triggerWinsWith(ctx), image.id, data, 'stage')).resolves.toBeUndefined();
    expect(await showImage(stack, owner, image.id)).toMatchObject({ status: 'uploading', size: data.length });
  });

  it('answers 413, not 410, when the trigger killed the image over quota', async () => {
    const data = randomData(1000);
    const image = await createImage(stack, owner);
    // The trigger sees less room than the direct path reserved (its read of the quota can differ).
    const images = Object.assign(Object.create(ctx.images), { roomFor: async () => 100 });
    const trigger: UploadContext = { ...ctx, images };
    const failure = await upload(await triggerWinsWith(trigger), image.id, data, 'file').catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({
      status: 413,
      message: expect.stringContaining('exceeds the quota image_size_total'),
    });
    const killed = await showImage(stack, owner, image.id);
    expect(killed.status).toBe('killed');
    expect(await keysUnder(s3Of(stack), stack.bucketName, `images/${image.id}/`)).toEqual([]);
  });

  it('answers 413 when the trigger killed the image over the size cap, from the failure its kill recorded', async () => {
    const data = randomData(1000);
    const image = await createImage(stack, owner);
    const trigger: UploadContext = { ...ctx, limits: { ...ctx.limits, sizeCap: 100 } };
    const failure = await upload(await triggerWinsWith(trigger), image.id, data, 'file').catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({
      status: 413,
      message: expect.stringContaining('exceeds the image size cap'),
    });
    const history = await historyOf(stack, owner, image.id);
    expect(history.at(-1)).toMatchObject({ to: 'killed', trigger: 'uploadReject', failure: 'too-large' });
    expect((await showImage(stack, owner, image.id)).os_glance_failure_reason).toContain(
      'exceeds the image size cap',
    );
  });
});
