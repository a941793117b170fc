import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequest } from '#shared/errors';
import { decodeS3EventKey, parseUploadKey, S3_LIMITS, uploadIdOf, uploadKey } from '#shared/storage/bucket';
import { MAX_DIRECT_UPLOAD_BYTES } from '#shared/uploads/direct';
import {
  parseCompleteBody,
  parsePresignBody,
  partCountOf,
  partLength,
  planUpload,
} from '#shared/uploads/plan';

const MiB = 1024 ** 2;
const settings = { multipartThreshold: 100 * MiB, partSize: 64 * MiB };
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const ID = '3f1c1c59-9a5b-4a39-8a39-2a0c7b1f0a11';

describe('planUpload', () => {
  it('plans a single PUT without a size, at or below the threshold', () => {
    expect(planUpload(null, settings)).toEqual({ method: 'single' });
    expect(planUpload(0, settings)).toEqual({ method: 'single' });
    expect(planUpload(100 * MiB, settings)).toEqual({ method: 'single' });
  });

  it('plans parts of the configured size above the threshold', () => {
    expect(planUpload(100 * MiB + 1, settings)).toEqual({
      method: 'multipart',
      partSize: 64 * MiB,
      partCount: 2,
    });
  });

  it('never needs more than 10,000 parts, and every part but the last is S3-sized', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100 * MiB + 1, max: 5 * 1024 ** 4 }), (size) => {
        const plan = planUpload(size, settings);
        if (plan.method !== 'multipart') return false;
        expect(plan.partCount).toBeLessThanOrEqual(S3_LIMITS.maxParts);
        expect(plan.partSize).toBeGreaterThanOrEqual(S3_LIMITS.minPartSize);
        expect(plan.partSize).toBeLessThanOrEqual(S3_LIMITS.maxPartSize);
        let total = 0;
        for (let n = 1; n <= plan.partCount; n++) total += partLength(n, size, plan.partSize);
        expect(total).toBe(size);
        expect(partLength(plan.partCount, size, plan.partSize)).toBeGreaterThan(0);
        return true;
      }),
    );
  });

  it('forces multipart above the 5 GiB single-PUT limit whatever the threshold', () => {
    expect(
      planUpload(5 * 1024 ** 3 + 1, { multipartThreshold: 5 * 1024 ** 3, partSize: 64 * MiB }).method,
    ).toBe('multipart');
  });

  it('counts parts', () => {
    expect(partCountOf(10, 3)).toBe(4);
    expect(partLength(4, 10, 3)).toBe(1);
    expect(partLength(2, 10, 3)).toBe(3);
  });
});

describe('parsePresignBody', () => {
  it('reads no body, a size, or a re-sign request', () => {
    expect(parsePresignBody(Buffer.alloc(0), 10)).toEqual({ kind: 'new', size: null });
    expect(parsePresignBody(json({}), 10)).toEqual({ kind: 'new', size: null });
    expect(parsePresignBody(json({ size: 0 }), 10)).toEqual({ kind: 'new', size: 0 });
    expect(parsePresignBody(json({ upload_id: ID.toUpperCase() }), 10)).toEqual({
      kind: 'resign',
      uploadId: ID,
      partNumbers: null,
    });
    expect(parsePresignBody(json({ upload_id: ID, part_numbers: [3, 1, 3] }), 10)).toEqual({
      kind: 'resign',
      uploadId: ID,
      partNumbers: [1, 3],
    });
  });

  it.each<[string, unknown]>([
    ['a fraction', { size: 1.5 }],
    ['a negative size', { size: -1 }],
    ['a string', { size: '10' }],
    ['an unsafe integer', { size: 2 ** 60 }],
    ['an unknown key', { size: 1, name: 'x' }],
    ['an array', [1]],
    ['a bad upload_id', { upload_id: 'abc' }],
    ['part numbers out of range', { upload_id: ID, part_numbers: [0] }],
    ['too many part numbers', { upload_id: ID, part_numbers: Array.from({ length: 11 }, (_, i) => i + 1) }],
    ['an empty part list', { upload_id: ID, part_numbers: [] }],
    ['size with upload_id', { upload_id: ID, size: 1 }],
  ])('refuses %s with 400', (_, body) => {
    expect(() => parsePresignBody(json(body), 10)).toThrow(BadRequest);
  });

  it('refuses malformed JSON with 400', () => {
    expect(() => parsePresignBody(Buffer.from('{'), 10)).toThrow(BadRequest);
  });
});

describe('parseCompleteBody', () => {
  it('sorts parts and normalises ETags', () => {
    expect(
      parseCompleteBody(
        json({
          upload_id: ID,
          parts: [
            { part_number: 2, etag: '"ABC"' },
            { part_number: 1, etag: 'def' },
          ],
        }),
      ),
    ).toEqual({
      uploadId: ID,
      parts: [
        { part_number: 1, etag: 'def' },
        { part_number: 2, etag: 'abc' },
      ],
    });
  });

  it.each<[string, unknown]>([
    ['no upload_id', { parts: [{ part_number: 1, etag: 'x' }] }],
    ['no parts', { upload_id: ID }],
    ['an empty ETag', { upload_id: ID, parts: [{ part_number: 1, etag: '""' }] }],
    [
      'a duplicate part',
      {
        upload_id: ID,
        parts: [
          { part_number: 1, etag: 'x' },
          { part_number: 1, etag: 'y' },
        ],
      },
    ],
    ['a part number of 10001', { upload_id: ID, parts: [{ part_number: 10_001, etag: 'x' }] }],
  ])('refuses %s with 400', (_, body) => {
    expect(() => parseCompleteBody(json(body))).toThrow(BadRequest);
  });
});

describe('keys', () => {
  it('round-trips the key scheme and rejects other keys', () => {
    const key = uploadKey('stage', ID, 'u-1');
    expect(key).toBe(`staging/${ID}/u-1`);
    expect(parseUploadKey(key)).toEqual({ kind: 'stage', imageId: ID, uploadId: 'u-1' });
    expect(parseUploadKey(`images/${ID}/x`)?.kind).toBe('file');
    for (const other of ['images/x/y', `images/${ID}`, `images/${ID}/a/b`, `other/${ID}/x`]) {
      expect(parseUploadKey(other)).toBeUndefined();
    }
    expect(uploadIdOf({ key })).toBe('u-1');
    expect(decodeS3EventKey('images/a+b%28c%29')).toBe('images/a b(c)');
  });
});

it('keeps direct uploads inside the 6 MB Lambda payload once base64-encoded', () => {
  expect(Math.ceil(MAX_DIRECT_UPLOAD_BYTES / 3) * 4).toBeLessThan(6_291_456 - 60_000);
  expect(MAX_DIRECT_UPLOAD_BYTES).toBeGreaterThan(4.4 * MiB);
});
