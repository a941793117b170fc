/**
 * Quotas over HTTP (docs/quotas.md), with `GLANCE_QUOTA_IMAGE_COUNT_TOTAL=5` and
 * `GLANCE_QUOTA_IMAGE_SIZE_TOTAL=10` for the deployment (read at cold start, so set before the
 * stack starts): concurrent creates and uploads against the limits, `GET /v2/info/usage`, the
 * operator CLI and its bad input.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuotaCli } from '#bin/quota';
import type { UsageLedger } from '#shared/quotas/ledger';
import type { QuotaName } from '#shared/quotas/usage';
import { glanceAvailable, runGlance } from '#test/helpers/glanceclient';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import {
  createImage,
  eventually,
  type Json,
  putTo,
  randomData,
  showImage,
  uploadDirect,
  waitForImage,
} from '../uploads/helpers.ts';

const MiB = 1024 ** 2;
let stack: TestStack;
/** The runtime's usage ledger, loaded once the stack has set the environment. */
let ledger: () => UsageLedger;

beforeAll(async () => {
  Object.assign(process.env, { GLANCE_QUOTA_IMAGE_COUNT_TOTAL: '5', GLANCE_QUOTA_IMAGE_SIZE_TOTAL: '10' });
  stack = await startTestStack();
  ({ ledger } = await import('#shared/runtime'));
});
afterAll(async () => {
  delete process.env.GLANCE_QUOTA_IMAGE_COUNT_TOTAL;
  delete process.env.GLANCE_QUOTA_IMAGE_SIZE_TOTAL;
  await stack.stop();
});

/** Runs the operator command against the stack's table; returns its exit code and output. */
const quota = async (...args: string[]) => {
  let out = '';
  let err = '';
  const code = await runQuotaCli([...args, '--table', stack.tableName, '--endpoint', stack.dynamoEndpoint], {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
  });
  return { code, out, err };
};

const usageOf = async (token: string) => {
  const response = await stack.api('GET', '/v2/info/usage', { token });
  expect(response.status).toBe(200);
  return response.json.usage as Record<QuotaName, { limit: number; usage: number }>;
};

const tally = (statuses: readonly number[]) => {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
};

describe('image_count_total', () => {
  it('gives ten concurrent creates in one project exactly five 201s and five 413s', async () => {
    const token = await stack.tokenFor({ project: 'p-count' });
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stack.api('POST', '/v2/images', {
          token,
          body: { name: `c${i}`, disk_format: 'raw', container_format: 'bare' },
        }),
      ),
    );
    expect(tally(responses.map((response) => response.status))).toEqual({ 201: 5, 413: 5 });
    for (const refused of responses.filter((response) => response.status === 413)) {
      expect(refused.json).toEqual({
        error: {
          code: 413,
          title: 'Request Entity Too Large',
          message:
            'Project p-count is over a limit for [Resource image_count_total is over limit of 5 due to current usage 5 and delta 1].',
        },
      });
    }
    const listed = await stack.api('GET', '/v2/images', { token });
    expect(listed.json.images).toHaveLength(5);
    expect((await usageOf(token)).image_count_total).toEqual({ limit: 5, usage: 5 });
    // Deleting one makes room for exactly one more.
    const [first] = responses.filter((response) => response.status === 201);
    expect((await stack.api('DELETE', `/v2/images/${first?.json.id}`, { token })).status).toBe(204);
    const again = await Promise.all(
      Array.from({ length: 3 }, () =>
        stack.api('POST', '/v2/images', { token, body: { disk_format: 'raw', container_format: 'bare' } }),
      ),
    );
    expect(tally(again.map((response) => response.status))).toEqual({ 201: 1, 413: 2 });
  });
});

describe('image_size_total', () => {
  it('lets at most 10 MiB of eight concurrent 3 MiB direct uploads through; the rest are refused (413)', async () => {
    const token = await stack.tokenFor({ project: 'p-direct' });
    expect((await quota('set', 'p-direct', 'image_count_total', '20')).code).toBe(0);
    const images = await Promise.all(Array.from({ length: 8 }, () => createImage(stack, token)));
    const responses = await Promise.all(
      images.map((image) => uploadDirect(stack, token, image.id, randomData(3 * MiB))),
    );
    expect(tally(responses.map((response) => response.status))).toEqual({ 204: 3, 413: 5 });
    for (const refused of responses.filter((response) => response.status === 413)) {
      expect(refused.json.error.message).toMatch(
        /^Project p-direct is over a limit for \[Resource image_size_total/,
      );
    }
    const shown: Json[] = await Promise.all(images.map((image) => showImage(stack, token, image.id)));
    const active = shown.filter((image) => image.status === 'active');
    expect(active.reduce((sum, image) => sum + image.size, 0)).toBe(9 * MiB);
    expect(shown.filter((image) => image.status === 'queued')).toHaveLength(5);
    expect(await usageOf(token)).toEqual({
      image_size_total: { limit: 10, usage: 9 },
      image_stage_total: { limit: -1, usage: 0 },
      image_count_total: { limit: 20, usage: 8 },
      image_count_uploading: { limit: -1, usage: 0 },
    });
  });

  it('kills with the reason what does not fit of eight concurrent presigned uploads of undeclared size', async () => {
    const token = await stack.tokenFor({ project: 'p-presign' });
    expect((await quota('set', 'p-presign', 'image_count_total', '20')).code).toBe(0);
    const images = await Promise.all(Array.from({ length: 8 }, () => createImage(stack, token)));
    const plans = await Promise.all(
      images.map(async (image) => {
        const response = await stack.api('POST', `/v2/images/${image.id}/file/presign`, { token });
        expect(response.status).toBe(200);
        return response.json;
      }),
    );
    // All eight are uploading at once: the slots are taken, the sizes are not known yet.
    expect((await usageOf(token)).image_count_uploading).toEqual({ limit: -1, usage: 8 });
    const puts = await Promise.all(plans.map((plan) => putTo(plan.url, randomData(3 * MiB), plan.headers)));
    expect(puts.map((put) => put.status)).toEqual(Array(8).fill(200));
    const settled: Json[] = await Promise.all(
      images.map((image) =>
        waitForImage(stack, token, image.id, (shown) => shown.status !== 'saving', 60_000),
      ),
    );
    const active = settled.filter((image) => image.status === 'active');
    const killed = settled.filter((image) => image.status === 'killed');
    expect(active.reduce((sum, image) => sum + image.size, 0)).toBeLessThanOrEqual(10 * MiB);
    expect(active).toHaveLength(3);
    expect(killed).toHaveLength(5);
    for (const image of killed)
      expect(image.os_glance_failure_reason).toMatch(/quota.*image_size_total|image_size_total.*quota/);
    // The trigger gives the slot back right after the image write (docs/quotas.md#reservations).
    await eventually(async () => (await ledger().read('p-presign')).pending.length === 0);
    expect(await usageOf(token)).toEqual({
      image_size_total: { limit: 10, usage: 9 },
      image_stage_total: { limit: -1, usage: 0 },
      image_count_total: { limit: 20, usage: 8 },
      image_count_uploading: { limit: -1, usage: 0 },
    });
  }, 120_000);
});

describe('image_stage_total and image_count_uploading', () => {
  it('refuses staging over a project limit, and a second upload beyond one slot', async () => {
    const token = await stack.tokenFor({ project: 'p-stage' });
    expect((await quota('set', 'p-stage', 'image_stage_total', '1')).code).toBe(0);
    expect((await quota('set', 'p-stage', 'image_count_uploading', '1')).code).toBe(0);
    const [big, small, other] = await Promise.all([
      createImage(stack, token),
      createImage(stack, token),
      createImage(stack, token),
    ]);
    const refused = await uploadDirect(stack, token, big.id, randomData(2 * MiB), 'stage');
    expect(refused.status).toBe(413);
    expect(refused.json.error.message).toContain('Resource image_stage_total is over limit of 1');
    expect((await showImage(stack, token, big.id)).status).toBe('queued');
    expect((await uploadDirect(stack, token, small.id, randomData(MiB / 2), 'stage')).status).toBe(204);
    // The staged image holds the one upload slot until it is imported or deleted.
    const second = await stack.api('POST', `/v2/images/${other.id}/file/presign`, {
      token,
      body: { size: 10 },
    });
    expect(second.status).toBe(413);
    expect(second.json.error.message).toContain('Resource image_count_uploading is over limit of 1');
    expect((await usageOf(token)).image_count_uploading).toEqual({ limit: 1, usage: 1 });
  });
});

describe('GET /v2/info/usage', () => {
  it("answers Glance's shape for the caller's project: the four quotas, MiB, -1 for unlimited", async () => {
    const token = await stack.tokenFor({ project: 'p-fresh' });
    expect(await usageOf(token)).toEqual({
      image_size_total: { limit: 10, usage: 0 },
      image_stage_total: { limit: -1, usage: 0 },
      image_count_total: { limit: 5, usage: 0 },
      image_count_uploading: { limit: -1, usage: 0 },
    });
    const image = await createImage(stack, token);
    expect((await uploadDirect(stack, token, image.id, randomData(MiB + 1))).status).toBe(204);
    const usage = await usageOf(token);
    expect(usage.image_size_total).toEqual({ limit: 10, usage: 1 });
    expect(usage.image_count_total).toEqual({ limit: 5, usage: 1 });
    // Another project's usage is its own.
    expect((await usageOf(await stack.tokenFor({ project: 'p-other-usage' }))).image_count_total.usage).toBe(
      0,
    );
  });

  it('needs a token', async () => {
    expect((await stack.api('GET', '/v2/info/usage')).status).toBe(401);
  });

  it.skipIf(!glanceAvailable)('is what `glance usage` shows', async () => {
    const token = await stack.tokenFor({ project: 'p-glance-usage' });
    await createImage(stack, token);
    const output = await runGlance(stack.url, token, ['usage']);
    const rows = Object.fromEntries(
      [...output.matchAll(/^\|\s*(image_\w+)\s*\|\s*(-?\d+)\s*\|\s*(\d+)\s*\|$/gm)].map((row) => [
        row[1],
        [Number(row[2]), Number(row[3])],
      ]),
    );
    expect(rows).toEqual({
      image_size_total: [10, 0],
      image_stage_total: [-1, 0],
      image_count_total: [5, 1],
      image_count_uploading: [-1, 0],
    });
  });
});

describe('the quota command', () => {
  it('sets, shows and unsets a project limit', async () => {
    expect(await quota('set', 'p-cli', 'image_size_total', '3')).toEqual({
      code: 0,
      out: 'p-cli: image_size_total = 3 MiB\n',
      err: '',
    });
    const shown = await quota('show', 'p-cli');
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/image_size_total\s+limit 3 MiB \(project\)\s+usage 0 MiB \(0 bytes\)/);
    expect(shown.out).toMatch(
      /image_count_total\s+limit 5 images \(GLANCE_QUOTA_IMAGE_COUNT_TOTAL\)\s+usage 0 images/,
    );
    expect(shown.out).toMatch(
      /image_stage_total\s+limit the deployment's \(GLANCE_QUOTA_IMAGE_STAGE_TOTAL\)/,
    );
    const token = await stack.tokenFor({ project: 'p-cli' });
    expect((await usageOf(token)).image_size_total.limit).toBe(3);
    expect((await quota('unset', 'p-cli', 'image_size_total')).code).toBe(0);
    expect((await usageOf(token)).image_size_total.limit).toBe(10);
  });

  it.each<[string, string[], RegExp]>([
    ['a negative limit', ['set', 'p-bad', 'image_size_total', '-1'], /non-negative integer/],
    ['a fraction', ['set', 'p-bad', 'image_size_total', '1.5'], /non-negative integer \(MiB\)/],
    ['a word', ['set', 'p-bad', 'image_count_total', 'many'], /non-negative integer up to \d+; got 'many'/],
    [
      'an unknown quota',
      ['set', 'p-bad', 'image_size', '3'],
      /Unknown quota 'image_size'; the quotas are image_size_total/,
    ],
    ['an unknown quota to unset', ['unset', 'p-bad', 'user_storage_quota'], /Unknown quota/],
    ['a missing limit', ['set', 'p-bad', 'image_size_total'], /Usage: serverless-glance quota/],
    ['a missing project', ['show'], /Usage: serverless-glance quota/],
    ['an unknown command', ['raise', 'p-bad', 'image_size_total', '3'], /Usage: serverless-glance quota/],
  ])('refuses %s with exit code 2 and writes nothing', async (_, args, message) => {
    const { code, out, err } = await quota(...args);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(message);
    expect((await ledger().read('p-bad')).exists).toBe(false);
  });

  it('runs as `npx serverless-glance quota`', async () => {
    const { stdout } = await promisify(execFile)(
      'npx',
      [
        'serverless-glance',
        'quota',
        'show',
        'p-direct',
        '--table',
        stack.tableName,
        '--endpoint',
        stack.dynamoEndpoint,
      ],
      { timeout: 60_000 },
    );
    expect(stdout).toMatch(/^project p-direct\n/);
    expect(stdout).toMatch(
      /image_size_total\s+limit 10 MiB \(GLANCE_QUOTA_IMAGE_SIZE_TOTAL\)\s+usage 9 MiB \(9437184 bytes\)/,
    );
  });
});
