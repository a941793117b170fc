import { describe, expect, it } from 'vitest';
import { GlanceError } from '#shared/errors';
import { applyPatch, PATCH_MEDIA_TYPE, parsePatch, requirePatchMediaType } from '#shared/images/patch';
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

describe('requirePatchMediaType', () => {
  it('accepts the v2.1 media type, with parameters', () => {
    expect(() => requirePatchMediaType(`${PATCH_MEDIA_TYPE}; charset=UTF-8`)).not.toThrow();
  });

  it.each([undefined, 'application/json', 'application/openstack-images-v2.0-json-patch'])(
    'refuses %s with 415 and Accept-Patch',
    (type) => {
      try {
        requirePatchMediaType(type);
        expect.unreachable();
      } catch (error) {
        expect(error).toMatchObject({ status: 415, headers: { 'Accept-Patch': PATCH_MEDIA_TYPE } });
      }
    },
  );
});

describe('parsePatch', () => {
  it('decodes ~0 and ~1 escapes in paths', () => {
    expect(parsePatch([{ op: 'add', path: '/a~1b~0c', value: 'v' }])).toEqual([
      { op: 'add', attribute: 'a/b~c', value: 'v' },
    ]);
  });

  it.each<[string, unknown]>([
    ['an object body', { op: 'add', path: '/x', value: 'y' }],
    ['a scalar operation', ['add']],
    ['an unknown op', [{ op: 'copy', path: '/x', from: '/y' }]],
    ['a path without a slash', [{ op: 'add', path: 'x', value: 'y' }]],
    ['a root path', [{ op: 'add', path: '/', value: 'y' }]],
    ['an empty segment', [{ op: 'add', path: '/x//y', value: 'y' }]],
    ['a trailing slash', [{ op: 'add', path: '/x/', value: 'y' }]],
    ['a bad escape', [{ op: 'add', path: '/a~2', value: 'y' }]],
    ['a nested path', [{ op: 'add', path: '/a/b', value: 'y' }]],
    ['replace without value', [{ op: 'replace', path: '/name' }]],
  ])('refuses %s with 400', (_, body) => {
    expect(statusOf(() => parsePatch(body))).toBe(400);
  });
});

describe('applyPatch', () => {
  const image = queuedImage({ properties: { color: 'red' } });
  const apply = (operations: unknown, on = image, caller = member()) =>
    applyPatch(on, parsePatch(operations), caller);

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
    ['locations', 403, [{ op: 'add', path: '/locations', value: [] }]],
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

  it.each(['queued', 'importing'] as const)('changes formats while %s', (status) => {
    expect(apply([{ op: 'replace', path: '/disk_format', value: 'qcow2' }], { ...image, status })).toEqual({
      disk_format: 'qcow2',
    });
  });

  it.each(['active', 'deactivated', 'saving', 'uploading', 'killed'] as const)(
    'refuses format changes with 403 while %s, but allows other metadata',
    (status) => {
      const on = { ...image, status };
      expect(statusOf(() => apply([{ op: 'replace', path: '/container_format', value: 'ova' }], on))).toBe(
        403,
      );
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
