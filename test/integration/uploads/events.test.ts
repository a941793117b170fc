/**
 * The S3 trigger driven by hand (`LOCAL_FINALISER=off`): the test captures the real s3rver event
 * records and delivers them to the finalise handler as S3 would, duplicated and out of order, and
 * with a Lambda context nearly out of time; and the verify pass against the room left in the
 * owner's quota, counting the reads it makes.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuotaName } from '#shared/quotas/usage';
import { ObjectStore } from '#shared/storage/object-store';
import type { UploadContext } from '#shared/uploads/context';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import {
  createImage,
  eventually,
  historyOf,
  type Json,
  objectExists,
  putTo,
  randomData,
  s3Of,
  sha512,
  showImage,
  uploadDirect,
} from './helpers.ts';

let stack: TestStack;
let owner: string;
const records: S3EventRecord[] = [];

beforeAll(async () => {
  process.env.LOCAL_FINALISER = 'off';
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: 'p-events', roles: ['member'] });
  stack.onObjectCreated((event) => void records.push(...event.Records));
});
afterAll(() => stack.stop());

/** A Lambda context with `remainingMs()` left (60 s: 30 s for the pass after the 30 s reserve). */
const context = (remainingMs = () => 60_000): Context =>
  ({
    functionName: 'Finalise',
    awsRequestId: 'test',
    getRemainingTimeInMillis: remainingMs,
  }) as unknown as Context;

const finalise = async (...delivered: S3EventRecord[]) => finaliseWithin(() => 60_000, ...delivered);

const finaliseWithin = async (remainingMs: () => number, ...delivered: S3EventRecord[]) => {
  const { handler } = await import('#functions/uploads/finalise');
  return handler({ Records: delivered } as S3Event, context(remainingMs));
};

/** The event records s3rver emitted for `key`, in emission order. */
const eventsFor = async (key: string, count = 1) => {
  const encoded = key.replace(/ /g, '+');
  await eventually(async () => records.filter((r) => r.s3.object.key === encoded).length >= count);
  return records.filter((r) => r.s3.object.key === encoded);
};

const presignPut = async (id: string, data: Uint8Array) => {
  const plan = (
    await stack.api('POST', `/v2/images/${id}/file/presign`, { token: owner, body: { size: data.length } })
  ).json;
  expect((await putTo(plan.url, data, plan.headers)).status).toBe(200);
  return { plan, key: `images/${id}/${plan.upload_id}` };
};

describe('duplicate and out-of-order delivery', () => {
  it('activates once for the same event delivered 3 times at once, later and after a newer event', async () => {
    const data = randomData(64_000);
    const image = await createImage(stack, owner);
    const { plan, key } = await presignPut(image.id, data);
    // A second write of the same bytes to the same URL (S3 would refuse it: If-None-Match).
    expect((await putTo(plan.url, data, plan.headers)).status).toBe(200);
    const [first, second] = await eventsFor(key, 2);
    if (!first || !second) throw new Error('no events');
    expect(first.s3.object.sequencer < second.s3.object.sequencer).toBe(true);
    expect((await showImage(stack, owner, image.id)).status).toBe('saving');

    // The newer event first, then the older one three times at once, then again.
    const newer = await finalise(second);
    expect(newer).toEqual([{ key, outcome: 'activated', status: 'active' }]);
    const concurrent = await Promise.allSettled([finalise(first), finalise(first), finalise(first)]);
    for (const result of concurrent) {
      // A duplicate either finds the record done, or (delivered while the first runs) fails to be retried.
      if (result.status === 'fulfilled') expect(result.value).toEqual([{ key, outcome: 'current' }]);
      else expect(String(result.reason.errors?.[0]?.name)).toBe('IdempotencyAlreadyInProgressError');
    }
    expect(concurrent.some((result) => result.status === 'fulfilled')).toBe(true);
    // Redelivering returns the stored result of the first delivery of that very write.
    expect(await finalise(second)).toEqual(newer);
    expect(await finalise(first)).toEqual([{ key, outcome: 'current' }]);

    const shown = await showImage(stack, owner, image.id);
    expect(shown).toMatchObject({ status: 'active', size: data.length, os_hash_value: sha512(data) });
    const history = await historyOf(stack, owner, image.id);
    expect(history.filter((e: Json) => e.to === 'active')).toHaveLength(1);
  });

  it('keeps one Powertools record per S3 write in the table, outside the image items', async () => {
    const runtime = await import('#shared/runtime');
    const documentClient = runtime.documentClient();
    const config = runtime.serviceConfig();
    const { Items = [] } = await documentClient.send(
      new QueryCommand({
        TableName: config.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'IDEMPOTENCY#finalise' },
      }),
    );
    expect(Items.length).toBeGreaterThanOrEqual(2);
    for (const item of Items) {
      expect(item).toMatchObject({
        sk: expect.stringMatching(/^finalise#/),
        status: 'COMPLETED',
        ttl: expect.any(Number),
      });
      expect(item.gsi1pk).toBeUndefined();
    }
  });

  it('replays a completed write without reading the object again', async () => {
    const data = randomData(1000);
    const image = await createImage(stack, owner);
    const { key } = await presignPut(image.id, data);
    const [event] = await eventsFor(key);
    if (!event) throw new Error('no event');
    const result = await finalise(event);
    expect(result).toEqual([{ key, outcome: 'activated', status: 'active' }]);
    // Without idempotency a redelivery would now say 'current' (the image's own data).
    expect(await finalise(event, event)).toEqual([...result, ...result]);
  });
});

describe('orphans', () => {
  it('deletes an object that arrives for a deleted image and changes nothing', async () => {
    const image = await createImage(stack, owner);
    const plan = (
      await stack.api('POST', `/v2/images/${image.id}/file/presign`, { token: owner, body: { size: 10 } })
    ).json;
    expect((await stack.api('DELETE', `/v2/images/${image.id}`, { token: owner })).status).toBe(204);
    expect((await putTo(plan.url, randomData(10), plan.headers)).status).toBe(200);
    const key = `images/${image.id}/${plan.upload_id}`;
    const s3 = s3Of(stack);
    expect(await objectExists(s3, stack.bucketName, key)).toBe(true);
    const [event] = await eventsFor(key);
    if (!event) throw new Error('no event');
    expect(await finalise(event)).toEqual([
      { key, outcome: 'orphan', reason: "image is 'deleted' and waits for no upload" },
    ]);
    expect(await objectExists(s3, stack.bucketName, key)).toBe(false);
  });

  it('deletes a stale attempt of an image waiting for another key, which stays saving', async () => {
    const image = await createImage(stack, owner);
    await stack.api('POST', `/v2/images/${image.id}/file/presign`, { token: owner, body: { size: 10 } });
    const stale = `images/${image.id}/6f1c1c59-9a5b-4a39-8a39-2a0c7b1f0a11`;
    const s3 = s3Of(stack);
    await s3.send(new PutObjectCommand({ Bucket: stack.bucketName, Key: stale, Body: 'old attempt' }));
    const [event] = await eventsFor(stale);
    if (!event) throw new Error('no event');
    expect((await finalise(event))[0]?.outcome).toBe('orphan');
    expect(await objectExists(s3, stack.bucketName, stale)).toBe(false);
    const shown = await showImage(stack, owner, image.id);
    expect(shown.status).toBe('saving');
  });

  it('leaves keys outside the scheme and objects of an importing image alone', async () => {
    const s3 = s3Of(stack);
    const foreign = 'images/not-an-image id';
    await s3.send(new PutObjectCommand({ Bucket: stack.bucketName, Key: foreign, Body: 'x' }));
    const [event] = await eventsFor(foreign);
    if (!event) throw new Error('no event');
    expect((await finalise(event))[0]?.outcome).toBe('ignored');
    expect(await objectExists(s3, stack.bucketName, foreign)).toBe(true);

    // An import in progress writes its own objects (those of the task holding the lock are the
    // import workflow's; test/integration/import/late-objects.test.ts has the others).
    const image = await createImage(stack, owner);
    const images = (await import('#shared/runtime')).images();
    const { applyTrigger } = await import('#shared/images/actions');
    const { withLock } = await import('#shared/import/lock');
    const record = await images.get(image.id);
    if (!record) throw new Error('no record');
    const taskId = '0d9f6a8e-3b0c-4c1e-9a36-4f8f3b2e7d10';
    await applyTrigger(images, record, 'importStart', {
      actor: 'system:test',
      set: { properties: withLock(record, taskId) },
    });
    const imported = `images/${image.id}/${taskId}`;
    await s3.send(new PutObjectCommand({ Bucket: stack.bucketName, Key: imported, Body: 'import' }));
    const [importEvent] = await eventsFor(imported);
    if (!importEvent) throw new Error('no event');
    expect(await finalise(importEvent)).toEqual([
      { key: imported, outcome: 'ignored', reason: 'the image is importing' },
    ]);
    expect(await objectExists(s3, stack.bucketName, imported)).toBe(true);
  });
});

describe('out of time (docs/uploads.md#out-of-time)', () => {
  const MiB = 1024 ** 2;

  it.each([
    ['no time left after the reserve: nothing is read', () => 30_000],
    [
      'a few milliseconds left: the read stops midway',
      (() => {
        let deadline: number | undefined;
        return () => {
          deadline ??= Date.now() + 30_005;
          return deadline - Date.now();
        };
      })(),
    ],
  ])('kills the image with the reason and deletes the object: %s', async (_, remainingMs) => {
    const image = await createImage(stack, owner);
    const data = randomData(20 * MiB);
    const { key } = await presignPut(image.id, data);
    const [event] = await eventsFor(key);
    if (!event) throw new Error('no event');
    const [result] = await finaliseWithin(remainingMs, event);
    expect(result).toMatchObject({ key, outcome: 'killed', status: 'killed' });
    expect(result?.reason).toMatch(
      new RegExp(
        `^The data could not be verified within the function time limit: \\d+ of ${data.length} bytes read in 0 s\\.$`,
      ),
    );
    expect((await historyOf(stack, owner, image.id)).at(-1)).toMatchObject({
      from: 'saving',
      to: 'killed',
      trigger: 'uploadReject',
      failure: 'unverified',
      reason: result?.reason,
    });
    expect(await objectExists(s3Of(stack), stack.bucketName, key)).toBe(false);
    // S3's retry of the same write gets the recorded result: nothing is read again.
    expect(await finalise(event)).toEqual([result]);
  });
});

describe('the room left in the quota (docs/quotas.md#where-they-are-checked)', () => {
  const KiB = 1024;
  const PROJECT = 'p-events-quota';
  let token: string;
  beforeAll(async () => {
    token = await stack.tokenFor({ project: PROJECT, roles: ['member'] });
  });
  const setLimit = async (name: QuotaName, mib: number) =>
    (await import('#shared/runtime')).ledger().setLimit(PROJECT, name, mib);

  /** The trigger's finalisation with an object store that counts the GETs of object data. */
  const countingFinalise = async (key: string) => {
    const { uploadContext } = await import('#shared/runtime');
    const { finaliseUpload } = await import('#shared/uploads/finalise');
    const { TRIGGER_ACTOR } = await import('#shared/uploads/context');
    const ctx = uploadContext();
    const gets: string[] = [];
    const send = (command: Parameters<S3Client['send']>[0]) => {
      if (command instanceof GetObjectCommand) gets.push(command.input.Range ?? 'all');
      return ctx.store.s3.send(command);
    };
    const counting: UploadContext = {
      ...ctx,
      store: new ObjectStore({ send } as S3Client, ctx.store.bucket),
    };
    const result = await finaliseUpload(counting, { key }, { actor: TRIGGER_ACTOR });
    return { result, gets };
  };

  /** Data PUT through a presigned URL that declared no size (so nothing reserved its bytes). */
  const putUndeclared = async (kind: 'file' | 'stage', data: Uint8Array) => {
    const image = await createImage(stack, token);
    const plan = (await stack.api('POST', `/v2/images/${image.id}/${kind}/presign`, { token })).json;
    expect((await putTo(plan.url, data, plan.headers)).status).toBe(200);
    return { id: image.id, key: `${kind === 'file' ? 'images' : 'staging'}/${image.id}/${plan.upload_id}` };
  };

  it.each([
    ['file', 'image_size_total', 'uploadReject'],
    ['stage', 'image_stage_total', 'stageReject'],
  ] as const)(
    'kills %s data over what is left of %s without reading it, with the quota reason',
    async (kind, quota, trigger) => {
      await setLimit(quota, 1);
      // 700 KiB held by an image of the project: 324 KiB left of 1 MiB.
      const filler = await createImage(stack, token);
      expect((await uploadDirect(stack, token, filler.id, randomData(700 * KiB), kind)).status).toBe(204);
      const { id, key } = await putUndeclared(kind, randomData(512 * KiB));

      const { result, gets } = await countingFinalise(key);
      expect(gets).toEqual([]);
      const reason = `Image data (${512 * KiB} bytes) exceeds the quota ${quota} of project ${PROJECT}: ${324 * KiB} bytes left.`;
      expect(result).toMatchObject({ outcome: 'killed', failure: 'quota', reason });
      expect((await historyOf(stack, token, id)).at(-1)).toMatchObject({
        to: 'killed',
        trigger,
        failure: 'quota',
        reason,
      });
      expect(await objectExists(s3Of(stack), stack.bucketName, key)).toBe(false);
      await setLimit(quota, 1024);
    },
  );

  it('reads data that fits in ranged GETs and accepts it', async () => {
    await setLimit('image_size_total', 1024);
    const data = randomData(200 * KiB);
    const { id, key } = await putUndeclared('file', data);
    const { result, gets } = await countingFinalise(key);
    expect(result).toMatchObject({ outcome: 'activated' });
    expect(gets.length).toBeGreaterThan(0);
    expect(gets.every((range) => range.startsWith('bytes='))).toBe(true);
    expect(await showImage(stack, token, id)).toMatchObject({ status: 'active', size: data.length });
  });
});
