import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequest } from '#shared/errors';
import { IMAGE_SCHEMA, type JsonObject } from '#shared/schemas/documents';
import {
  charLength,
  describeValue,
  IMAGE_ID_PATTERN,
  MAX_DB_INT,
  validateCreateBody,
  validateImageValue,
} from '#shared/schemas/image-values';
import { check } from './json-schema-lite.ts';

const UUID = '9f1c0a8e-7f0e-4d7e-9a51-4c2b2f0e6a11';
const EMOJI = '\u{1F600}';

/** The 400 a call throws, for assertions on its message. */
const badRequest = (fn: () => unknown): BadRequest => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequest);
    expect((error as BadRequest).status).toBe(400);
    return error as BadRequest;
  }
  throw new Error('expected a BadRequest');
};

describe('validateImageValue: accepted values', () => {
  it.each<[string, unknown]>([
    ['id', UUID],
    ['id', UUID.toUpperCase()],
    ['name', 'cirros'],
    ['name', ''],
    ['name', null],
    ['name', 'n'.repeat(255)],
    ['name', EMOJI.repeat(255)],
    ['visibility', 'public'],
    ['visibility', 'community'],
    ['visibility', 'shared'],
    ['visibility', 'private'],
    ['protected', true],
    ['protected', false],
    ['os_hidden', true],
    ['owner', null],
    ['owner', 'p-alpha'],
    ['owner', 'o'.repeat(255)],
    ['container_format', null],
    ['container_format', 'bare'],
    ['container_format', 'compressed'],
    ['disk_format', null],
    ['disk_format', 'qcow2'],
    ['disk_format', 'ploop'],
    ['min_disk', 0],
    ['min_disk', 40],
    ['min_ram', MAX_DB_INT],
    ['tags', []],
    ['tags', ['a', 'b']],
    ['tags', ['', 't'.repeat(255)]],
    ['locations', []],
    ['locations', [{ url: 'http://x/y', metadata: {} }]],
    [
      'locations',
      [
        {
          url: 's3://b/k',
          metadata: { store: 'a' },
          validation_data: {
            checksum: 'c'.repeat(32),
            os_hash_algo: 'sha512',
            os_hash_value: 'f'.repeat(128),
          },
        },
      ],
    ],
    ['status', 'active'],
    ['checksum', null],
    ['size', 5],
    ['size', null],
    ['os_distro', 'ubuntu'],
    ['os_distro', ''],
    ['k'.repeat(255), 'v'],
  ])('%s = %j', (attribute, value) => {
    expect(validateImageValue(attribute, value)).toEqual(value);
  });

  it('de-duplicates tags, keeping the first occurrence order', () => {
    expect(validateImageValue('tags', ['b', 'a', 'b', 'c', 'a'])).toEqual(['b', 'a', 'c']);
  });

  it('types the result by attribute', () => {
    const ram: number = validateImageValue('min_ram', 512);
    const visibility: 'public' | 'community' | 'shared' | 'private' = validateImageValue(
      'visibility',
      'private',
    );
    expect([ram, visibility]).toEqual([512, 'private']);
  });
});

describe('validateImageValue: 400 naming the attribute', () => {
  it.each<[string, unknown, string]>([
    ['id', 'abc', "Invalid value for 'id': expected a UUID"],
    ['id', 42, "Invalid value for 'id': expected a UUID string, got 42"],
    ['id', `${UUID}0`, "Invalid value for 'id'"],
    ['id', UUID.replace(/-/g, ''), "Invalid value for 'id'"],
    ['name', 5, "Invalid value for 'name': expected a string of at most 255 characters or null, got 5"],
    [
      'name',
      'n'.repeat(256),
      "Invalid value for 'name': expected a string of at most 255 characters or null",
    ],
    ['name', EMOJI.repeat(256), "Invalid value for 'name'"],
    [
      'name',
      ['x'],
      "Invalid value for 'name': expected a string of at most 255 characters or null, got an array",
    ],
    [
      'visibility',
      'secret',
      "Invalid value for 'visibility': expected one of 'community', 'public', 'private', 'shared', got 'secret'",
    ],
    ['visibility', null, "Invalid value for 'visibility'"],
    ['visibility', 'Public', "Invalid value for 'visibility'"],
    ['protected', 'true', "Invalid value for 'protected': expected a boolean (true or false), got 'true'"],
    ['protected', 1, "Invalid value for 'protected'"],
    ['protected', null, "Invalid value for 'protected'"],
    ['os_hidden', 'false', "Invalid value for 'os_hidden'"],
    ['owner', 7, "Invalid value for 'owner'"],
    ['owner', 'o'.repeat(256), "Invalid value for 'owner'"],
    ['container_format', 'zip', "Invalid value for 'container_format': expected null or one of 'ami'"],
    ['container_format', '', "Invalid value for 'container_format'"],
    ['disk_format', 'QCOW2', "Invalid value for 'disk_format': expected null or one of"],
    ['disk_format', 3, "Invalid value for 'disk_format'"],
    ['min_disk', -1, "Invalid value for 'min_disk': expected an integer between 0 and 2147483647, got -1"],
    ['min_disk', 1.5, "Invalid value for 'min_disk'"],
    ['min_disk', '10', "Invalid value for 'min_disk'"],
    ['min_disk', null, "Invalid value for 'min_disk'"],
    ['min_ram', MAX_DB_INT + 1, "Invalid value for 'min_ram'"],
    ['min_ram', true, "Invalid value for 'min_ram'"],
    ['tags', 'x86', "Invalid value for 'tags': expected an array of strings, got 'x86'"],
    ['tags', null, "Invalid value for 'tags'"],
    ['tags', ['ok', 5], "Invalid value for 'tags[1]': expected a string of at most 255 characters, got 5"],
    ['tags', ['t'.repeat(256)], "Invalid value for 'tags[0]'"],
    ['locations', {}, "Invalid value for 'locations': expected an array of locations"],
    [
      'locations',
      [{ url: 'x' }],
      "Invalid value for 'locations[0].metadata': expected an object, got no value",
    ],
    ['locations', [{ url: 'x', metadata: [] }], "Invalid value for 'locations[0].metadata'"],
    ['locations', [{ metadata: {} }], "Invalid value for 'locations[0].url'"],
    [
      'locations',
      [{ url: 'x', metadata: {}, validation_data: { os_hash_algo: 'sha512' } }],
      "Invalid value for 'locations[0].validation_data.os_hash_value'",
    ],
    [
      'locations',
      [{ url: 'x', metadata: {}, validation_data: { os_hash_algo: 'a', os_hash_value: 'b', extra: 'c' } }],
      "Invalid value for 'locations[0].validation_data'",
    ],
    [
      'locations',
      [
        {
          url: 'x',
          metadata: {},
          validation_data: { checksum: 'short', os_hash_algo: 'a', os_hash_value: 'b' },
        },
      ],
      "Invalid value for 'locations[0].validation_data.checksum': expected a string of 32 characters",
    ],
    ['status', 'gone', "Invalid value for 'status'"],
    ['checksum', 'c'.repeat(33), "Invalid value for 'checksum'"],
    ['os_hash_value', 'h'.repeat(129), "Invalid value for 'os_hash_value'"],
    ['size', 'big', "Invalid value for 'size'"],
    ['created_at', 5, "Invalid value for 'created_at'"],
    [
      'os_distro',
      5,
      "Invalid value for 'os_distro': expected a string (additional properties take string values only)",
    ],
    ['os_distro', null, "Invalid value for 'os_distro'"],
    ['os_distro', true, "Invalid value for 'os_distro'"],
    ['os_distro', { a: 1 }, "Invalid value for 'os_distro'"],
    ['os_distro', ['a'], "Invalid value for 'os_distro'"],
    ['k'.repeat(256), 'v', 'custom property names must not be longer than 255 characters'],
  ])('%s = %j → 400', (attribute, value, message) => {
    expect(badRequest(() => validateImageValue(attribute, value)).message).toContain(message);
  });

  it('ends every message with a period and never echoes a huge value', () => {
    const error = badRequest(() => validateImageValue('name', 'n'.repeat(10_000)));
    expect(error.message.endsWith('.')).toBe(true);
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('describeValue / charLength', () => {
  it.each<[unknown, string]>([
    [undefined, 'no value'],
    [null, 'null'],
    [true, 'true'],
    [3.5, '3.5'],
    ['x', "'x'"],
    [[1], 'an array'],
    [{ a: 1 }, 'an object'],
    ['y'.repeat(100), `'${'y'.repeat(56)}...`],
  ])('%j → %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  it('never splits a surrogate pair when truncating', () => {
    expect(describeValue(EMOJI.repeat(100))).toBe(`'${EMOJI.repeat(56)}...`);
  });

  it('counts code points like Python len()', () => {
    expect(charLength(EMOJI)).toBe(1);
    expect(charLength('abc')).toBe(3);
    expect(charLength('')).toBe(0);
  });
});

describe('validateCreateBody', () => {
  it('returns the attributes present and the additional properties', () => {
    expect(
      validateCreateBody({
        id: UUID,
        name: 'cirros',
        visibility: 'private',
        protected: true,
        os_hidden: false,
        owner: 'p-alpha',
        container_format: 'bare',
        disk_format: 'qcow2',
        min_disk: 1,
        min_ram: 256,
        tags: ['a', 'a', 'b'],
        os_distro: 'cirros',
        hw_disk_bus: 'virtio',
      }),
    ).toEqual({
      id: UUID,
      name: 'cirros',
      visibility: 'private',
      protected: true,
      os_hidden: false,
      owner: 'p-alpha',
      container_format: 'bare',
      disk_format: 'qcow2',
      min_disk: 1,
      min_ram: 256,
      tags: ['a', 'b'],
      properties: { os_distro: 'cirros', hw_disk_bus: 'virtio' },
    });
  });

  it('accepts an empty body (all defaults are applied later)', () => {
    expect(validateCreateBody({})).toEqual({ properties: {} });
  });

  it('keeps explicit nulls so the caller can tell them from absence', () => {
    expect(validateCreateBody({ name: null, disk_format: null })).toEqual({
      name: null,
      disk_format: null,
      properties: {},
    });
  });

  it.each<[string, unknown]>([
    ['status', 'active'],
    ['checksum', null],
    ['size', 5],
    ['virtual_size', null],
    ['created_at', 'x'],
    ['updated_at', 'x'],
    ['os_hash_algo', 'sha512'],
    ['os_hash_value', null],
    ['direct_url', 'x'],
    ['self', '/v2/images/x'],
    ['file', '/v2/images/x/file'],
    ['schema', '/v2/schemas/image'],
    ['stores', 'a,b'],
    ['locations', []],
    ['location', 'http://x'],
    ['deleted', 'false'],
    ['deleted_at', 'x'],
    ['os_glance_import_task', 'x'],
    ['os_glance_anything', 'x'],
  ])('never returns read-only or reserved %s (the 403 is the handler’s)', (key, value) => {
    const result = validateCreateBody({ [key]: value });
    expect(result).toEqual({ properties: {} });
  });

  it.each<[string, unknown, string]>([
    ['status', 7, "Invalid value for 'status'"],
    ['size', 'big', "Invalid value for 'size'"],
    ['locations', 'x', "Invalid value for 'locations'"],
    ['deleted', true, "Invalid value for 'deleted'"],
    ['os_glance_import_task', 1, "Invalid value for 'os_glance_import_task'"],
  ])('type-checks read-only/reserved %s like Glance schema validation (400)', (key, value, message) => {
    expect(badRequest(() => validateCreateBody({ [key]: value })).message).toContain(message);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['bad enum', { visibility: 'everyone' }, "'visibility'"],
    ['bad id', { id: 'not-a-uuid' }, "'id'"],
    ['non-string property', { os_distro: 5 }, "'os_distro'"],
    ['null property', { os_distro: null }, "'os_distro'"],
    ['long property key', { ['p'.repeat(256)]: 'v' }, 'longer than 255 characters'],
    ['negative min_ram', { min_ram: -5 }, "'min_ram'"],
    ['long tag', { tags: ['x'.repeat(256)] }, "'tags[0]'"],
    ['string protected', { protected: 'yes' }, "'protected'"],
  ])('%s → 400', (_, body, message) => {
    expect(badRequest(() => validateCreateBody(body)).message).toContain(message);
  });

  it('reports the first violation in body order', () => {
    expect(badRequest(() => validateCreateBody({ min_ram: -1, name: 5 })).message).toContain("'min_ram'");
  });

  it.each<[unknown]>([[null], [[]], ['body'], [42], [true], [undefined]])(
    '%j is not a JSON object → 400',
    (body) => {
      expect(badRequest(() => validateCreateBody(body)).message).toContain('must be a JSON object');
    },
  );

  it('keeps a property literally named __proto__ as data', () => {
    const body = JSON.parse('{"__proto__": "x", "a": "b"}');
    const result = validateCreateBody(body);
    expect(Object.hasOwn(result.properties, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(result.properties)).toBe(Object.prototype);
    expect(Object.keys(result.properties)).toEqual(['__proto__', 'a']);
  });
});

describe('validators agree with the served image schema (property tests)', () => {
  const property = (name: string) => (IMAGE_SCHEMA.properties as JsonObject)[name];
  const accepts = (attribute: string, value: unknown): boolean => {
    try {
      validateImageValue(attribute, value);
      return true;
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      return false;
    }
  };
  const candidates = fc.oneof(
    fc.jsonValue(),
    fc.string({ unit: 'grapheme', maxLength: 300 }),
    fc.string({ unit: 'binary', minLength: 250, maxLength: 260 }),
    fc.constantFrom(null, UUID, UUID.toUpperCase(), 'public', 'bare', 'qcow2', 'active', ''),
    fc.array(fc.oneof(fc.string({ maxLength: 300 }), fc.integer())),
  );

  it.each([
    'id',
    'name',
    'visibility',
    'protected',
    'os_hidden',
    'owner',
    'container_format',
    'disk_format',
    'tags',
  ])('%s: the checks accept exactly what the JSON schema accepts', (attribute) => {
    fc.assert(
      fc.property(
        candidates,
        (value) => accepts(attribute, value) === (check(property(attribute), value).length === 0),
      ),
    );
  });

  it.each(['min_ram', 'min_disk'])(
    '%s: the schema says integer; we also need 0…2^31-1 (docs/api.md#update)',
    (attribute) => {
      fc.assert(
        fc.property(fc.oneof(candidates, fc.integer(), fc.double()), (value) => {
          const schemaOk = check(property(attribute), value).length === 0;
          const inRange = typeof value === 'number' && value >= 0 && value <= MAX_DB_INT;
          return accepts(attribute, value) === (schemaOk && inRange);
        }),
      );
    },
  );

  it('additional properties: any string value, any name up to 255 characters', () => {
    fc.assert(
      fc.property(
        fc
          .string({ unit: 'grapheme', minLength: 1, maxLength: 300 })
          .filter((k) => property(k) === undefined),
        candidates,
        (key, value) => accepts(key, value) === (typeof value === 'string' && charLength(key) <= 255),
      ),
    );
  });

  it('IMAGE_ID_PATTERN matches the schema pattern', () => {
    expect(IMAGE_ID_PATTERN.source).toBe((property('id') as JsonObject).pattern);
  });
});
