import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MissingConfigError,
  readQuotaDefaults,
  readServiceConfig,
  readUploadSettings,
  settingEnv,
} from '#shared/config';
import { DEFAULT_VERIFY_BYTES_PER_SECOND, defaultSizeCap, verifiableBytes } from '#shared/data/limits';
import { DEFAULT_IMAGE_FORMAT_POLICY, GPT_NONFATAL_CHECKS } from '#shared/image-format/decision';
import { DEFAULT_URI_FILTER } from '#shared/import/uri-filter';
import { MAX_LIMIT, UNLIMITED } from '#shared/quotas/usage';
import {
  type IntegerSetting,
  imageSizeCap,
  importAllowedNetworks,
  importAllowedPorts,
  integerSetting,
  isPlaceholderHost,
  logRetentionDays,
  memoryMb,
  multipartPartSizeBytes,
  parseSetting,
  SETTINGS,
  type Setting,
  SettingError,
  settingToEnv,
  sizeCapFor,
  type TextSetting,
  uploadUrlSeconds,
} from '#shared/settings';
import { S3_LIMITS } from '#shared/storage/bucket';

const settings = Object.entries(SETTINGS) as [string, Setting][];
const withEnv = settings.filter(([, s]) => s.env !== undefined);
const integers = settings.filter((entry): entry is [string, IntegerSetting] => entry[1].kind === 'integer');

const savedEnv = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

describe('the registry', () => {
  it.each(settings)('%s is registered under its own key', (name, setting) => {
    expect(setting.key).toBe(name);
  });

  it('gives every setting its own environment variable', () => {
    const names = withEnv.map(([, s]) => s.env);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(settings.filter(([, s]) => s.default !== undefined && s.default !== null))(
    '%s has a default within its own rules',
    (_, s) => {
      expect(parseSetting(s, settingToEnv(s.default as never))).toEqual(parseSetting(s, undefined));
    },
  );

  it.each(settings.filter(([, s]) => s.default === null))(
    '%s is null unless given (no variable: the reader’s own default), and null is the same as unset',
    (_, s) => {
      expect(parseSetting(s, undefined)).toBeNull();
      expect(parseSetting(s, null)).toBeNull();
    },
  );
});

describe('bounds from elsewhere, kept as plain numbers', () => {
  it('holds S3 limits as shared/storage/bucket.ts has them', () => {
    expect(SETTINGS.multipartThresholdBytes.max).toBe(S3_LIMITS.maxSinglePut);
    expect(multipartPartSizeBytes.deployMin).toBe(S3_LIMITS.minPartSize);
    expect(multipartPartSizeBytes.max).toBe(S3_LIMITS.maxPartSize);
    expect(SETTINGS.presignMaxPartUrls.max).toBe(S3_LIMITS.maxParts);
    for (const quota of [
      SETTINGS['quota:image_size_total'],
      SETTINGS['quota:image_stage_total'],
      SETTINGS['quota:image_count_total'],
      SETTINGS['quota:image_count_uploading'],
    ]) {
      expect(quota.max).toBe(MAX_LIMIT);
    }
  });

  it("defaults the URI filter's lists to DEFAULT_URI_FILTER", () => {
    expect(parseSetting(SETTINGS.importAllowedSchemes, undefined)).toEqual(DEFAULT_URI_FILTER.allowedSchemes);
    expect(parseSetting(importAllowedPorts, undefined).map(Number)).toEqual(DEFAULT_URI_FILTER.allowedPorts);
  });
});

describe('parsing', () => {
  it.each<[unknown, number]>([
    [900, 900],
    ['900', 900],
    [' 12 ', 12],
  ])('reads the integer %j', (raw, value) => {
    expect(parseSetting(uploadUrlSeconds, raw)).toBe(value);
  });

  it.each([901, 0, -1, 1.5, '1e3', 'abc', true, [], {}, null, '9007199254740993'])(
    'refuses %j for an integer from 1 to 900, naming the range',
    (raw) => {
      expect(() => parseSetting(uploadUrlSeconds, raw)).toThrow(SettingError);
      expect(() => parseSetting(uploadUrlSeconds, raw)).toThrow(/from 1 to 900/);
    },
  );

  it('holds AWS bounds at deploy time only: a part size below 5 MiB works locally, not on AWS', () => {
    expect(parseSetting(multipartPartSizeBytes, '100000')).toBe(100000);
    expect(() => parseSetting(multipartPartSizeBytes, 100000, true)).toThrow(/from 5242880/);
  });

  it('round-trips every integer in range through its variable', () => {
    for (const [, setting] of integers) {
      fc.assert(
        fc.property(fc.integer({ min: setting.min, max: setting.max }), (value) => {
          expect(parseSetting(setting, settingToEnv(value))).toBe(value);
        }),
        { numRuns: 50 },
      );
    }
  });

  it.each<[unknown, boolean]>([
    [true, true],
    ['false', false],
    ['TRUE', true],
  ])('reads the boolean %j', (raw, value) => {
    expect(parseSetting(SETTINGS.delayedDelete, raw)).toBe(value);
  });

  it.each(['yes', 1, 'on', {}])('refuses %j for a boolean', (raw) => {
    expect(() => parseSetting(SETTINGS.delayedDelete, raw)).toThrow(/true or false/);
  });

  it('reads lists from arrays and comma-separated text, lower-cased; empty text is an empty list', () => {
    expect(parseSetting(importAllowedPorts, [80, '8080'])).toEqual(['80', '8080']);
    expect(parseSetting(importAllowedPorts, ' 80, 443 ')).toEqual(['80', '443']);
    expect(parseSetting(importAllowedPorts, '')).toEqual([]);
    expect(parseSetting(importAllowedPorts, undefined)).toEqual(['80', '443']);
    expect(parseSetting(SETTINGS.importDisallowedHosts, 'Evil.Example')).toEqual(['evil.example']);
  });

  it.each<[Setting, unknown, RegExp]>([
    [importAllowedPorts, ['http'], /port/],
    [importAllowedPorts, '70000', /port/],
    [importAllowedNetworks, ['10.0.0.0/33'], /CIDR/],
    [importAllowedNetworks, 42, /list/],
    [importAllowedNetworks, [{}], /text/],
  ])('refuses a list item that is not what the list holds (%#)', (setting, raw, message) => {
    expect(() => parseSetting(setting, raw)).toThrow(message);
  });

  it('reads choices in any case and numbers as text', () => {
    expect(parseSetting(SETTINGS.logLevel, 'debug')).toBe('DEBUG');
    expect(parseSetting(logRetentionDays, 90)).toBe('90');
    expect(() => parseSetting(logRetentionDays, 31)).toThrow(/one of 1, 3, 5/);
  });

  it('reads per-function values from objects and JSON text', () => {
    expect(parseSetting(memoryMb, { Finalise: 4096 })).toEqual({ Finalise: 4096 });
    expect(parseSetting(memoryMb, '{"Finalise": "4096"}')).toEqual({ Finalise: 4096 });
    expect(() => parseSetting(memoryMb, { Finalise: 64 })).toThrow(/Finalise an integer from 128/);
    expect(() => parseSetting(memoryMb, 'Finalise=4096')).toThrow(/object of function names/);
    expect(() => parseSetting(memoryMb, [1])).toThrow(/object of function names/);
  });

  it('requires text settings without a default, refuses placeholders and non-URLs', () => {
    // The rules any required text setting gets; no such setting is defined today.
    const jwtIssuer = { key: 'someUrl', kind: 'text', url: true } as const satisfies TextSetting;
    const jwtAudience = { key: 'someText', kind: 'text' } as const satisfies TextSetting;
    expect(() => parseSetting(jwtIssuer, undefined)).toThrow(/must be set/);
    expect(() => parseSetting(jwtIssuer, '')).toThrow(/empty|URL/);
    expect(() => parseSetting(jwtIssuer, 'https://auth.example.com/')).toThrow(/placeholder/);
    expect(() => parseSetting(jwtIssuer, 'ftp://idp.corp.net/')).toThrow(/http\(s\) URL/);
    expect(() => parseSetting(jwtIssuer, 'idp.corp.net')).toThrow(/http\(s\) URL/);
    expect(parseSetting(jwtIssuer, 'https://idp.corp.net/')).toBe('https://idp.corp.net/');
    expect(() => parseSetting(jwtAudience, '<your token audience>')).toThrow(/placeholder/);
    expect(() => parseSetting(jwtAudience, 'REPLACE-WITH-YOUR-AUDIENCE')).toThrow(/placeholder/);
    expect(parseSetting(jwtAudience, 'serverless-glance')).toBe('serverless-glance');
  });

  it.each([
    ['example.com', true],
    ['auth.example.org', true],
    ['keystone.example', true],
    ['idp.invalid', true],
    ['examples.com', false],
    ['idp.corp.net', false],
  ])('knows %s is a placeholder host: %s', (host, placeholder) => {
    expect(isPlaceholderHost(host)).toBe(placeholder);
  });
});

describe('reading the environment with the same definitions', () => {
  it('reads a variable, and falls back to the default when unset or empty', () => {
    process.env.IMAGE_SIZE_CAP = '2048';
    expect(settingEnv(imageSizeCap, integerSetting)).toBe(2048);
    process.env.IMAGE_SIZE_CAP = '';
    expect(settingEnv(imageSizeCap, integerSetting)).toBe(imageSizeCap.default);
  });

  it('fails naming the variable', () => {
    process.env.UPLOAD_URL_SECONDS = '3600';
    expect(() => settingEnv(uploadUrlSeconds, integerSetting)).toThrow(MissingConfigError);
    expect(() => readUploadSettings()).toThrow(
      /environment variable UPLOAD_URL_SECONDS must be an integer from 1 to 900/,
    );
  });

  it('reads the service section from the same variables the stack sets', () => {
    Object.assign(process.env, {
      TABLE_NAME: 't',
      BUCKET_NAME: 'b',
      IMAGE_SIZE_CAP: settingToEnv(4096),
      GLANCE_QUOTA_IMAGE_SIZE_TOTAL: settingToEnv(8192),
      DELAYED_DELETE: settingToEnv(true),
      SCRUB_TIME_SECONDS: settingToEnv(60),
      TASK_TIME_TO_LIVE: settingToEnv(2),
    });
    expect(readServiceConfig()).toEqual({
      tableName: 't',
      bucketName: 'b',
      delayedDelete: true,
      scrubTimeSeconds: 60,
      limits: { sizeCap: 4096 },
      taskTimeToLiveHours: 2,
      verifyBytesPerSecond: 134_217_728,
      imageMemberQuota: 128,
    });
    expect(readQuotaDefaults()).toEqual({ ...UNLIMITED, image_size_total: 8192 });
  });
});

describe('literal defaults and bounds agree with the modules they come from', () => {
  it("the verification rate, the size cap it gives, and Glance's [image_format] defaults", () => {
    expect(SETTINGS.verifyBytesPerSecond.default).toBe(DEFAULT_VERIFY_BYTES_PER_SECOND);
    expect(SETTINGS.imageSizeCap.default).toBe(defaultSizeCap(DEFAULT_VERIFY_BYTES_PER_SECOND));
    expect(SETTINGS.imageFormatRequireMatch.default).toBe(
      DEFAULT_IMAGE_FORMAT_POLICY.requireImageFormatMatch,
    );
    expect(SETTINGS.imageFormatVmdkAllowedTypes.default).toEqual(
      DEFAULT_IMAGE_FORMAT_POLICY.vmdkAllowedTypes,
    );
    expect(SETTINGS.imageFormatGptNonfatalChecks.default).toEqual(
      DEFAULT_IMAGE_FORMAT_POLICY.gptSafetyChecksNonfatal,
    );
    for (const check of GPT_NONFATAL_CHECKS) {
      expect(SETTINGS.imageFormatGptNonfatalChecks.item.valid(check)).toBe(true);
    }
  });

  it('sizeCapFor is shared/data/limits at every rate: the default cap, and the largest one accepted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: SETTINGS.verifyBytesPerSecond.min, max: SETTINGS.verifyBytesPerSecond.max }),
        (rate) => {
          expect(sizeCapFor(undefined, rate)).toBe(defaultSizeCap(rate));
          expect(sizeCapFor(verifiableBytes(rate), rate)).toBe(verifiableBytes(rate));
          expect(() => sizeCapFor(verifiableBytes(rate) + 1, rate)).toThrow(/must be at most/);
        },
      ),
    );
  });
});
