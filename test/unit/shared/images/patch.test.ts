import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GlanceError } from '#shared/errors';
import { applyPatch, type PatchDialect, parsePatch, patchDialect } from '#shared/images/patch';
import { admin, member, queuedImage } from '#test/helpers/images';

const statusOf = (fn: () => unknown): number => {
  try {
    fn();
    return 0;
  } catch (error) {
    if (error instanceof GlanceError) return error.status;
    throw error;
  }
};

const V20 = 'application/openstack-images-v2.0-json-patch';
const V21 = 'application/openstack-images-v2.1-json-patch';

describe('patchDialect', () => {
  it.each([
    [V20, 'draft-04'],
    [V21, 'draft-10'],
    [`${V21}; charset=UTF-8`, 'draft-10'],
    [V20.toUpperCase(), 'draft-04'],
  ])('reads %s as %s', (type, dialect) => {
    expect(patchDialect(type)).toBe(dialect);
  });

  it.each([
    undefined,
    '',
    'application/json',
    'application/json-patch+json',
    'application/openstack-images-v2.2-json-patch',
  ])('refuses %s with 415 and an Accept-Patch listing both types', (type) => {
    expect(() => patchDialect(type)).toThrow(
      expect.objectContaining({
        status: 415,
        headers: { 'Accept-Patch': `${V20}, ${V21}` },
      }),
    );
  });
});

describe('parsePatch', () => {
  it.each<[string, PatchDialect, unknown, unknown]>([
    [
      'draft 10 add',
      'draft-10',
      [{ op: 'add', path: '/a', value: 'v' }],
      [{ op: 'add', attribute: 'a', value: 'v' }],
    ],
    ['draft 10 remove', 'draft-10', [{ op: 'remove', path: '/a' }], [{ op: 'remove', attribute: 'a' }]],
    [
      'draft 4 replace',
      'draft-04',
      [{ replace: '/name', value: 'x' }],
      [{ op: 'replace', attribute: 'name', value: 'x' }],
    ],
    [
      'draft 4 add',
      'draft-04',
      [{ add: '/a', value: null }],
      [{ op: 'add', attribute: 'a', value: null, addOnly: true }],
    ],
    ['draft 4 remove', 'draft-04', [{ remove: '/a' }], [{ op: 'remove', attribute: 'a' }]],
    [
      'escapes',
      'draft-10',
      [{ op: 'add', path: '/a~1b~0c', value: 'v' }],
      [{ op: 'add', attribute: 'a/b~c', value: 'v' }],
    ],
    [
      'segments trimmed',
      'draft-10',
      [{ op: 'add', path: '/ name ', value: 'v' }],
      [{ op: 'add', attribute: 'name', value: 'v' }],
    ],
    [
      'extra members ignored',
      'draft-10',
      [{ op: 'remove', path: '/a', value: 1, x: 2 }],
      [{ op: 'remove', attribute: 'a' }],
    ],
    ['nothing', 'draft-04', [], []],
  ])('reads %s', (_, dialect, body, expected) => {
    expect(parsePatch(body, dialect)).toEqual(expected);
  });

  it.each<[string, PatchDialect, unknown, string]>([
    [
      'an object body',
      'draft-10',
      { op: 'add', path: '/x', value: 'y' },
      'Request body must be a JSON array of operation objects.',
    ],
    ['a scalar operation', 'draft-04', ['add'], 'Operations must be JSON objects.'],
    ['a null operation', 'draft-10', [null], 'Operations must be JSON objects.'],
    [
      'a draft 4 operation as v2.1',
      'draft-10',
      [{ replace: '/name', value: 'x' }],
      'Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.',
    ],
    [
      'a draft 10 operation as v2.0',
      'draft-04',
      [{ op: 'replace', path: '/name', value: 'x' }],
      'Operation objects must contain exactly one member named "add", "remove", or "replace".',
    ],
    [
      'two draft 4 operations in one object',
      'draft-04',
      [{ add: '/a', remove: '/b', value: 1 }],
      'Operation objects must contain only one member named "add", "remove", or "replace".',
    ],
    [
      'an unknown op',
      'draft-10',
      [{ op: 'copy', path: '/x', from: '/y' }],
      'Invalid operation: `copy`. It must be one of the following: add, remove, replace.',
    ],
    ['no path', 'draft-10', [{ op: 'add', value: 'y' }], "Unable to find 'path' in JSON Schema change"],
    ['a path that is no string', 'draft-04', [{ add: 7, value: 'y' }], 'Pointer must be a string.'],
    [
      'a path without a slash',
      'draft-10',
      [{ op: 'add', path: 'x', value: 'y' }],
      'Pointer `x` does not start with "/".',
    ],
    [
      'adjacent slashes',
      'draft-10',
      [{ op: 'add', path: '/x//y', value: 'y' }],
      'Pointer `/x//y` contains adjacent "/".',
    ],
    ['a trailing slash', 'draft-04', [{ add: '/x/', value: 'y' }], 'Pointer `/x/` end with "/".'],
    [
      'a bad escape',
      'draft-10',
      [{ op: 'add', path: '/a~2', value: 'y' }],
      'Pointer `/a~2` contains "~" not part of a recognized escape sequence.',
    ],
    [
      'a trailing tilde',
      'draft-04',
      [{ add: '/a~', value: 'y' }],
      'Pointer `/a~` contains "~" not part of a recognized escape sequence.',
    ],
    [
      'a root path',
      'draft-10',
      [{ op: 'add', path: '/', value: 'y' }],
      "Invalid JSON pointer for this resource: '/'",
    ],
    [
      'a nested path',
      'draft-10',
      [{ op: 'add', path: '/a/b', value: 'y' }],
      "Invalid JSON pointer for this resource: '/a/b'",
    ],
    [
      'a nested location replace',
      'draft-10',
      [{ op: 'replace', path: '/locations/0', value: [] }],
      "Invalid JSON pointer for this resource: '/locations/0'",
    ],
    [
      'replace without value',
      'draft-10',
      [{ op: 'replace', path: '/name' }],
      'Operation "replace" requires a member named "value".',
    ],
    [
      'draft 4 add without value',
      'draft-04',
      [{ add: '/name' }],
      'Operation "add" requires a member named "value".',
    ],
  ])("refuses %s with 400 and Glance's message", (_, dialect, body, message) => {
    expect(() => parsePatch(body, dialect)).toThrow(expect.objectContaining({ status: 400, message }));
  });

  it('reads both dialects into the same operations (an add of v2.0 marked add-only)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('add', 'replace', 'remove'),
        fc.stringMatching(/^[a-z_:~/]{1,12}$/),
        fc.jsonValue(),
        (op, name, value) => {
          const path = `/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
          const v21 = op === 'remove' ? { op, path } : { op, path, value };
          const v20 = op === 'remove' ? { [op]: path } : { [op]: path, value };
          const read = (body: unknown, dialect: PatchDialect) => {
            try {
              return parsePatch([body], dialect);
            } catch (error) {
              return (error as Error).message;
            }
          };
          const asV21 = (operations: ReturnType<typeof read>) =>
            typeof operations === 'string' ? operations : operations.map(({ addOnly: _, ...rest }) => rest);
          expect(asV21(read(v20, 'draft-04'))).toEqual(read(v21, 'draft-10'));
        },
      ),
    );
  });
});

describe('applyPatch', () => {
  const image = queuedImage({ properties: { color: 'red' } });
  const apply = (operations: unknown, on = image, caller = member()) =>
    applyPatch(on, parsePatch(operations, 'draft-10'), caller);

  it.each([
    ['a base attribute (always there)', '/name', 409],
    ['a property already set', '/color', 409],
    ['a new property', '/size_hint', 0],
  ])('answers an add in the v2.0 media type to %s as Glance does (%i: 409 or none)', (_, path, status) => {
    const applied = () => applyPatch(image, parsePatch([{ add: path, value: 'x' }], 'draft-04'), member());
    expect(statusOf(applied)).toBe(status);
    // The v2.1 media type (RFC 6902) replaces.
    expect(statusOf(() => apply([{ op: 'add', path, value: 'x' }]))).toBe(0);
  });

  it('returns only what changes, applying operations in order', () => {
    expect(
      apply([
        { op: 'add', path: '/name', value: 'one' },
        { op: 'replace', path: '/name', value: 'two' },
        { op: 'add', path: '/size_hint', value: 'big' },
        { op: 'remove', path: '/color' },
      ]),
    ).toEqual({ name: 'two', properties: { size_hint: 'big' } });
  });

  it('answers undefined for an empty patch', () => {
    expect(apply([])).toBeUndefined();
  });

  it('collapses duplicate tags', () => {
    expect(apply([{ op: 'replace', path: '/tags', value: ['a', 'a', 'b'] }])).toEqual({ tags: ['a', 'b'] });
  });

  it.each<[string, number, unknown[]]>([
    ['status', 403, [{ op: 'replace', path: '/status', value: 'active' }]],
    ['id', 403, [{ op: 'replace', path: '/id', value: 'x' }]],
    ['os_hash_value', 403, [{ op: 'replace', path: '/os_hash_value', value: 'x' }]],
    ['locations', 403, [{ op: 'replace', path: '/locations', value: [] }]],
    ['a location', 403, [{ op: 'add', path: '/locations/-', value: { url: 'http://x' } }]],
    ['an os_glance property', 403, [{ op: 'add', path: '/os_glance_failure_reason', value: 'x' }]],
    ['removing a base attribute', 403, [{ op: 'remove', path: '/min_ram' }]],
    ['replacing a missing property', 409, [{ op: 'replace', path: '/nope', value: 'x' }]],
    ['removing a missing property', 409, [{ op: 'remove', path: '/nope' }]],
    ['a non-string property', 400, [{ op: 'add', path: '/count', value: 3 }]],
    ['a long name', 400, [{ op: 'replace', path: '/name', value: 'n'.repeat(256) }]],
    ['public by a member', 403, [{ op: 'replace', path: '/visibility', value: 'public' }]],
    ['another owner by a member', 403, [{ op: 'replace', path: '/owner', value: 'someone' }]],
    [
      '129 tags',
      413,
      [{ op: 'replace', path: '/tags', value: Array.from({ length: 129 }, (_, i) => `${i}`) }],
    ],
  ])('refuses %s with %i', (_, status, operations) => {
    expect(statusOf(() => apply(operations))).toBe(status);
  });

  it('lets an admin make an image public and give it away', () => {
    expect(
      apply(
        [
          { op: 'replace', path: '/visibility', value: 'public' },
          { op: 'replace', path: '/owner', value: 'p-new' },
        ],
        image,
        admin(),
      ),
    ).toEqual({ visibility: 'public', owner: 'p-new' });
  });

  it('changes formats while queued', () => {
    expect(
      apply([{ op: 'replace', path: '/disk_format', value: 'qcow2' }], { ...image, status: 'queued' }),
    ).toEqual({
      disk_format: 'qcow2',
    });
  });

  it('lets a format be replaced by the same value in any status (nothing changes)', () => {
    const on = { ...image, status: 'active' as const, disk_format: 'raw' as const };
    expect(apply([{ op: 'replace', path: '/disk_format', value: 'raw' }], on)).toEqual({
      disk_format: 'raw',
    });
  });

  it.each(['importing', 'active', 'deactivated', 'saving', 'uploading', 'killed'] as const)(
    'refuses format changes with 403 while %s, but allows other metadata',
    (status) => {
      const on = { ...image, status };
      for (const attribute of ['container_format', 'disk_format']) {
        const value = attribute === 'disk_format' ? 'vmdk' : 'ova';
        expect(() => apply([{ op: 'replace', path: `/${attribute}`, value }], on)).toThrow(
          expect.objectContaining({
            status: 403,
            message: `Attribute ${attribute} can be only replaced for a queued image.`,
          }),
        );
      }
      expect(apply([{ op: 'replace', path: '/name', value: 'ok' }], on)).toEqual({ name: 'ok' });
    },
  );

  it('refuses a patch that pushes properties over the quota of 128 with 413', () => {
    const crowded = queuedImage({
      properties: Object.fromEntries(Array.from({ length: 128 }, (_, i) => [`p${i}`, 'v'])),
    });
    expect(statusOf(() => apply([{ op: 'add', path: '/one_more', value: 'v' }], crowded))).toBe(413);
  });
});
