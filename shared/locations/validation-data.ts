/**
 * `validation_data`: the hashes a caller vouches for when it adds a location (docs/locations.md#validation-data).
 * Pure.
 *
 * - `POST /locations` (`parseValidationData`): `{os_hash_algo, os_hash_value}`, both required when the object is
 *   given; the algorithm must be the one the service hashes with (sha512) and the value its hex digest. Anything else
 *   is a 400. The location import then hashes the data and compares.
 * - The legacy patch (`legacyValidationData`): Glance's `_validate_validation_data`, with its 409s: `checksum`,
 *   `os_hash_algo`, `os_hash_value` are taken as they are (no hashing, as Glance), may repeat values already on the
 *   image, and may be new only while the image is `queued`.
 */
import { HASH_ALGO } from '#shared/data/digest';
import { BadRequest, Conflict } from '#shared/errors';
import type { ImageRecord } from '#shared/images/model';
import { isQueued } from '#shared/status-rules';

export interface ValidationData {
  readonly os_hash_algo: typeof HASH_ALGO;
  readonly os_hash_value: string;
}

/** Hex digit counts of the digests the service computes. */
const HEX_LENGTH = { md5: 32, [HASH_ALGO]: 128 } as const;
const isHex = (value: string): boolean => /^[0-9a-fA-F]*$/.test(value) && value.length % 2 === 0;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The new API's `validation_data`; undefined when absent. */
export const parseValidationData = (value: unknown): ValidationData | undefined => {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new BadRequest("'validation_data' must be an object.");
  const unknown = Object.keys(value).filter((key) => key !== 'os_hash_algo' && key !== 'os_hash_value');
  if (unknown.length > 0) {
    throw new BadRequest(
      `'validation_data' accepts os_hash_algo and os_hash_value, not ${unknown.join(', ')}.`,
    );
  }
  const { os_hash_algo: algo, os_hash_value: hash } = value;
  if (typeof algo !== 'string' || typeof hash !== 'string') {
    throw new BadRequest("'validation_data' needs both os_hash_algo and os_hash_value, as strings.");
  }
  if (algo !== HASH_ALGO) throw new BadRequest(`os_hash_algo must be ${HASH_ALGO}, not ${algo}.`);
  if (!isHex(hash)) throw new BadRequest(`os_hash_value (${hash}) is not a valid hexadecimal value.`);
  if (hash.length !== HEX_LENGTH[HASH_ALGO]) {
    throw new BadRequest(
      `os_hash_value (${hash}) is not the correct size for ${HASH_ALGO} (should be ${HEX_LENGTH[HASH_ALGO] / 2} bytes).`,
    );
  }
  return { os_hash_algo: HASH_ALGO, os_hash_value: hash.toLowerCase() };
};

/** The legacy patch's fields, as Glance sets them on the image. */
export type LegacyValidation = Partial<Pick<ImageRecord, 'checksum' | 'os_hash_algo' | 'os_hash_value'>>;
const LEGACY_KEYS = ['checksum', 'os_hash_algo', 'os_hash_value'] as const;

/**
 * The values the locations' `validation_data` would newly set on the image (empty when none); 409 as Glance for
 * conflicting, different, late or malformed values.
 */
export const legacyValidationData = (
  image: Pick<ImageRecord, 'status' | 'checksum' | 'os_hash_algo' | 'os_hash_value'>,
  locations: readonly { readonly validation_data?: unknown }[],
): LegacyValidation => {
  const given: Record<string, unknown> = {};
  for (const location of locations) {
    if (location.validation_data === undefined) continue;
    for (const [key, value] of Object.entries(location.validation_data as Record<string, unknown>)) {
      if (key in given && given[key] !== value) throw new Conflict(`Conflicting values for ${key}`);
      given[key] = value;
    }
  }
  const fresh: Record<string, string> = {};
  for (const [key, value] of Object.entries(given)) {
    const current = image[key as (typeof LEGACY_KEYS)[number]];
    if (value === current) continue;
    if (current) throw new Conflict(`${key} is already set with a different value`);
    fresh[key] = value as string;
  }
  if (Object.keys(fresh).length === 0) return {};
  if (!isQueued(image.status)) {
    throw new Conflict(
      `New value(s) for ${Object.keys(fresh).join(', ')} may only be provided when image status is 'queued'`,
    );
  }
  if (fresh.checksum !== undefined) {
    if (!isHex(fresh.checksum))
      throw new Conflict(`checksum (${fresh.checksum}) is not a valid hexadecimal value`);
    if (fresh.checksum.length !== HEX_LENGTH.md5) {
      throw new Conflict(`checksum (${fresh.checksum}) is not the correct size for md5 (should be 16 bytes)`);
    }
  }
  if (fresh.os_hash_algo !== HASH_ALGO) {
    throw new Conflict(`os_hash_algo must be ${HASH_ALGO}, not ${String(fresh.os_hash_algo ?? null)}`);
  }
  const hash = fresh.os_hash_value ?? '';
  if (!isHex(hash)) throw new Conflict(`os_hash_value (${hash}) is not a valid hexadecimal value`);
  if (hash.length !== HEX_LENGTH[HASH_ALGO]) {
    throw new Conflict(
      `os_hash_value (${hash}) is not the correct size for ${HASH_ALGO} (should be ${HEX_LENGTH[HASH_ALGO] / 2} bytes)`,
    );
  }
  return Object.fromEntries(LEGACY_KEYS.filter((key) => key in fresh).map((key) => [key, fresh[key]]));
};
