import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequest, Conflict } from '#shared/errors';
import { legacyValidationData, parseValidationData } from '#shared/locations/validation-data';

const sha512 = createHash('sha512').update('data').digest('hex');
const md5 = createHash('md5').update('data').digest('hex');

describe('parseValidationData (POST /locations): 400 for anything but {sha512, its hex digest}', () => {
  it('accepts the service’s algorithm with a digest of the right length (lower-cased)', () => {
    expect(parseValidationData({ os_hash_algo: 'sha512', os_hash_value: sha512.toUpperCase() })).toEqual({
      os_hash_algo: 'sha512',
      os_hash_value: sha512,
    });
    expect(parseValidationData(undefined)).toBeUndefined();
    expect(parseValidationData(null)).toBeUndefined();
  });

  it.each([
    ['not an object', 'sha512'],
    ['an array', []],
    ['empty', {}],
    ['no value', { os_hash_algo: 'sha512' }],
    ['no algorithm', { os_hash_value: sha512 }],
    ['an unknown algorithm', { os_hash_algo: 'md5', os_hash_value: md5 }],
    ['sha256', { os_hash_algo: 'sha256', os_hash_value: sha512.slice(0, 64) }],
    ['a short value', { os_hash_algo: 'sha512', os_hash_value: sha512.slice(2) }],
    ['a long value', { os_hash_algo: 'sha512', os_hash_value: `${sha512}00` }],
    ['a value that is not hex', { os_hash_algo: 'sha512', os_hash_value: 'g'.repeat(128) }],
    ['a number', { os_hash_algo: 'sha512', os_hash_value: 12 }],
    ['an extra key', { os_hash_algo: 'sha512', os_hash_value: sha512, checksum: md5 }],
  ])('refuses %s', (_what, value) => {
    expect(() => parseValidationData(value)).toThrow(BadRequest);
  });

  it('accepts exactly 128 hex digits', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (value) => {
        const ok = /^[0-9a-fA-F]{128}$/.test(value);
        const run = () => parseValidationData({ os_hash_algo: 'sha512', os_hash_value: value });
        if (ok) expect(run()?.os_hash_value).toBe(value.toLowerCase());
        else expect(run).toThrow(BadRequest);
      }),
    );
  });
});

describe('legacyValidationData (PATCH /locations): Glance’s rules and 409s', () => {
  const queued = { status: 'queued' as const, checksum: null, os_hash_algo: null, os_hash_value: null };
  const active = { status: 'active' as const, checksum: md5, os_hash_algo: 'sha512', os_hash_value: sha512 };
  const full = { checksum: md5, os_hash_algo: 'sha512', os_hash_value: sha512 };

  it('returns the new values for a queued image, nothing when none are given', () => {
    expect(legacyValidationData(queued, [{ validation_data: full }])).toEqual(full);
    expect(legacyValidationData(queued, [{}])).toEqual({});
  });

  it('accepts values equal to the image’s, on any status', () => {
    expect(legacyValidationData(active, [{ validation_data: full }])).toEqual({});
  });

  it.each([
    [
      'different values on an active image',
      active,
      [{ validation_data: { ...full, checksum: '2'.repeat(32) } }],
    ],
    ['a different algorithm', active, [{ validation_data: { ...full, os_hash_algo: 'sha256' } }]],
    [
      'conflicting locations',
      queued,
      [{ validation_data: full }, { validation_data: { ...full, checksum: '3'.repeat(32) } }],
    ],
    ['new values on an active image', { ...active, checksum: null }, [{ validation_data: full }]],
    ['a checksum that is not hex', queued, [{ validation_data: { ...full, checksum: 'z'.repeat(32) } }]],
    ['a checksum of the wrong size', queued, [{ validation_data: { ...full, checksum: 'ab' } }]],
    ['an algorithm other than sha512', queued, [{ validation_data: { ...full, os_hash_algo: 'md5' } }]],
    ['a hash of the wrong size', queued, [{ validation_data: { ...full, os_hash_value: 'ab' } }]],
  ])('409 for %s', (_what, image, locations) => {
    expect(() => legacyValidationData(image, locations)).toThrow(Conflict);
  });
});
