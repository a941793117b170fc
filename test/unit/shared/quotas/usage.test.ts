import { describe, expect, it } from 'vitest';
import {
  InvalidQuota,
  MAX_LIMIT,
  NO_USAGE,
  parseLimit,
  parseQuotaName,
  QuotaExceeded,
  UNLIMITED,
  usageReport,
} from '#shared/quotas/usage';

describe('quota names and limits', () => {
  it.each(['image_size_total', 'image_stage_total', 'image_count_total', 'image_count_uploading'])(
    'knows %s',
    (name) => {
      expect(parseQuotaName(name)).toBe(name);
    },
  );

  it.each(['image_size', 'IMAGE_SIZE_TOTAL', '', 'user_storage_quota'])(
    'refuses the unknown name %j',
    (name) => {
      expect(() => parseQuotaName(name)).toThrow(InvalidQuota);
    },
  );

  it.each(['0', '10', ' 7 ', String(MAX_LIMIT)])('accepts the limit %j', (text) => {
    expect(parseLimit('image_size_total', text)).toBe(Number(text.trim()));
  });

  it.each(['-1', '1.5', '1e3', 'ten', '', '0x10', String(MAX_LIMIT + 1), '99999999999999999999'])(
    'refuses the limit %j: a non-negative integer is needed',
    (text) => {
      expect(() => parseLimit('image_size_total', text)).toThrow(/non-negative integer \(MiB\)/);
    },
  );
});

describe('the usage report', () => {
  it("answers Glance's shape: sizes in whole MiB rounded down, -1 for unlimited", () => {
    const report = usageReport(
      {
        image_size_total: 3 * 1024 ** 2 - 1,
        image_stage_total: 0,
        image_count_total: 4,
        image_count_uploading: 1,
      },
      { ...UNLIMITED, image_size_total: 10, image_count_total: 5 },
    );
    expect(report).toEqual({
      usage: {
        image_size_total: { limit: 10, usage: 2 },
        image_stage_total: { limit: -1, usage: 0 },
        image_count_total: { limit: 5, usage: 4 },
        image_count_uploading: { limit: -1, usage: 1 },
      },
    });
    expect(usageReport(NO_USAGE, UNLIMITED).usage.image_count_total).toEqual({ limit: -1, usage: 0 });
  });
});

describe('QuotaExceeded', () => {
  it("is a 413 worded like oslo.limit's over-limit message, with the bytes of a size", () => {
    const error = new QuotaExceeded('p1', 'image_size_total', 10, 9 * 1024 ** 2, 3 * 1024 ** 2);
    expect(error.status).toBe(413);
    expect(error.message).toBe(
      'Project p1 is over a limit for [Resource image_size_total is over limit of 10 due to current usage 9 and delta 3] ' +
        '(MiB; 9437184 bytes used, 3145728 bytes requested, 1048576 bytes left).',
    );
    expect(new QuotaExceeded('p1', 'image_count_total', 5, 5, 1).message).toBe(
      'Project p1 is over a limit for [Resource image_count_total is over limit of 5 due to current usage 5 and delta 1].',
    );
  });
});
