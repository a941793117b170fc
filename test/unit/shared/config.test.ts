/**
 * Settings that follow from each other or mirror Glance's options: the size cap and the
 * verification rate (docs/uploads.md#how-large-an-image-one-invocation-verifies), and the
 * `[image_format]` options (docs/image-formats.md#configuration), and the deployment's quotas.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MissingConfigError,
  readImageFormatPolicy,
  readQuotaDefaults,
  readServiceConfig,
} from '#shared/config';
import { DEFAULT_VERIFY_BYTES_PER_SECOND, VERIFY_RATES, verifiableBytes } from '#shared/data/limits';
import { DEFAULT_IMAGE_FORMAT_POLICY } from '#shared/image-format/decision';
import { UNLIMITED } from '#shared/quotas/usage';

const VARIABLES = [
  'TABLE_NAME',
  'BUCKET_NAME',
  'IMAGE_SIZE_CAP',
  'VERIFY_BYTES_PER_SECOND',
  'IMAGE_FORMAT_REQUIRE_MATCH',
  'IMAGE_FORMAT_VMDK_ALLOWED_TYPES',
  'IMAGE_FORMAT_GPT_NONFATAL_CHECKS',
  'GLANCE_QUOTA_IMAGE_SIZE_TOTAL',
  'GLANCE_QUOTA_IMAGE_STAGE_TOTAL',
  'GLANCE_QUOTA_IMAGE_COUNT_TOTAL',
  'GLANCE_QUOTA_IMAGE_COUNT_UPLOADING',
  'USER_STORAGE_QUOTA',
];
let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, { TABLE_NAME: 'table', BUCKET_NAME: 'bucket' });
});
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('the size cap follows from the verification rate', () => {
  it('defaults to what one 15-minute invocation verifies at the stated rates, in whole GiB', () => {
    // S3: 8 streams of 50 MiB/s = 400 MiB/s; hashing 128 MiB/s: hashing is the bound.
    expect(VERIFY_RATES.s3StreamBytesPerSecond * VERIFY_RATES.streams).toBe(400 * MiB);
    expect(DEFAULT_VERIFY_BYTES_PER_SECOND).toBe(128 * MiB);
    // (900 s - 60 s) × 128 MiB/s = 107,520 MiB = 105 GiB.
    expect(verifiableBytes(128 * MiB)).toBe(105 * GiB);
    expect(readServiceConfig()).toMatchObject({
      verifyBytesPerSecond: 128 * MiB,
      limits: { sizeCap: 105 * GiB },
    });
  });

  it('refuses a cap that one invocation cannot verify, and moves with the rate', () => {
    process.env.IMAGE_SIZE_CAP = String(200 * GiB);
    expect(() => readServiceConfig()).toThrow(MissingConfigError);
    expect(() => readServiceConfig()).toThrow(/IMAGE_SIZE_CAP must be at most 112742891520/);
    process.env.VERIFY_BYTES_PER_SECOND = String(256 * MiB);
    expect(readServiceConfig().limits.sizeCap).toBe(200 * GiB);
    delete process.env.IMAGE_SIZE_CAP;
    expect(readServiceConfig().limits.sizeCap).toBe(210 * GiB);
    process.env.VERIFY_BYTES_PER_SECOND = '1000';
    expect(() => readServiceConfig()).toThrow(/VERIFY_BYTES_PER_SECOND/);
  });
});

describe('the deployment quotas (docs/quotas.md#names-and-limits)', () => {
  it('are unlimited unless set, and read from GLANCE_QUOTA_* in their units', () => {
    expect(readQuotaDefaults()).toEqual(UNLIMITED);
    Object.assign(process.env, { GLANCE_QUOTA_IMAGE_SIZE_TOTAL: '10', GLANCE_QUOTA_IMAGE_COUNT_TOTAL: ' ' });
    expect(readQuotaDefaults()).toEqual({ ...UNLIMITED, image_size_total: 10 });
  });

  it.each([
    ['GLANCE_QUOTA_IMAGE_COUNT_UPLOADING', '-1'],
    ['GLANCE_QUOTA_IMAGE_STAGE_TOTAL', '1.5'],
    ['USER_STORAGE_QUOTA', '1073741824'],
  ])('fail fast on %s=%s', (name, value) => {
    process.env[name] = value;
    expect(() => readQuotaDefaults()).toThrow(MissingConfigError);
    expect(() => readQuotaDefaults()).toThrow(name);
  });
});

describe("Glance's [image_format] options", () => {
  it("default to Glance's", () => {
    expect(readImageFormatPolicy()).toEqual(DEFAULT_IMAGE_FORMAT_POLICY);
  });

  it('are read from IMAGE_FORMAT_*, VMDK create types as written', () => {
    Object.assign(process.env, {
      IMAGE_FORMAT_REQUIRE_MATCH: 'False',
      IMAGE_FORMAT_VMDK_ALLOWED_TYPES: ' streamOptimized , twoGbMaxExtentSparse',
      IMAGE_FORMAT_GPT_NONFATAL_CHECKS: 'mbr',
    });
    expect(readImageFormatPolicy()).toEqual({
      requireImageFormatMatch: false,
      vmdkAllowedTypes: ['streamOptimized', 'twoGbMaxExtentSparse'],
      gptSafetyChecksNonfatal: ['mbr'],
    });
    process.env.IMAGE_FORMAT_VMDK_ALLOWED_TYPES = '';
    expect(readImageFormatPolicy().vmdkAllowedTypes).toEqual([]);
  });

  it.each([
    ['IMAGE_FORMAT_REQUIRE_MATCH', 'yes'],
    ['IMAGE_FORMAT_GPT_NONFATAL_CHECKS', 'mbr,header'],
  ])('fail fast on a malformed %s', (name, value) => {
    process.env[name] = value;
    expect(() => readImageFormatPolicy()).toThrow(MissingConfigError);
    expect(() => readImageFormatPolicy()).toThrow(name);
  });
});
