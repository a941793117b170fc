import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GlanceError } from '#shared/errors';
import type { ImageRecord } from '#shared/images/model';
import { parsePatch } from '#shared/images/patch';
import { DEFAULT_URI_FILTER } from '#shared/import/uri-filter';
import { locationsOf } from '#shared/locations/image-locations';
import { applyLocationPatch } from '#shared/locations/legacy-patch';
import type { LocationSettings } from '#shared/locations/url';

const settings: LocationSettings = {
  serviceBucket: 'glance-data',
  s3Allowed: [{ bucket: 'glance-data', prefix: 'locations/' }],
  showMultipleLocations: true,
};

const image = (overrides: Partial<ImageRecord> = {}): ImageRecord => ({
  id: '6a3f0b8e-2c1d-4e5f-8a9b-0c1d2e3f4a5b',
  name: null,
  visibility: 'private',
  protected: false,
  os_hidden: false,
  owner: 'p',
  container_format: 'bare',
  disk_format: 'raw',
  min_disk: 0,
  min_ram: 0,
  tags: [],
  properties: {},
  status: 'queued',
  checksum: null,
  os_hash_algo: null,
  os_hash_value: null,
  size: null,
  virtual_size: null,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  upload: null,
  data_key: null,
  version: 1,
  outbox: [],
  held: null,
  ...overrides,
});

const apply = (record: ImageRecord, operations: unknown[]) =>
  applyLocationPatch(record, parsePatch(operations, 'draft-10'), settings, DEFAULT_URI_FILTER);
const statusOf = (run: () => unknown): number => {
  try {
    run();
    return 0;
  } catch (error) {
    return (error as GlanceError).status;
  }
};

describe('applyLocationPatch', () => {
  it('a first location activates a queued image; adding to an active one does not', () => {
    const add = [{ op: 'add', path: '/locations/-', value: { url: 'https://example.com/a', metadata: {} } }];
    expect(apply(image(), add)).toMatchObject({ activate: true, added: ['https://example.com/a'] });
    const active = image({ status: 'active', locations: [{ url: 'https://example.com/b', metadata: {} }] });
    expect(apply(active, add)).toMatchObject({
      activate: false,
      changes: {
        locations: [
          { url: 'https://example.com/b', metadata: {} },
          { url: 'https://example.com/a', metadata: {} },
        ],
      },
    });
  });

  it('inserts at a position, as Glance counts it (own copy first)', () => {
    const active = image({ status: 'active', data_key: 'images/x/y', locations: [] });
    const edit = apply(active, [
      { op: 'add', path: '/locations/0', value: { url: 'https://example.com/first', metadata: {} } },
    ]);
    // Position 0 is before the service's copy; only the registered location is stored.
    expect(edit?.changes.locations).toEqual([{ url: 'https://example.com/first', metadata: {} }]);
  });

  it('never stores the service’s own copy, and never lets it be removed', () => {
    fc.assert(
      fc.property(fc.array(fc.webUrl({ validSchemes: ['https'] }), { maxLength: 4 }), (urls) => {
        const active = image({
          status: 'active',
          data_key: 'images/x/y',
          locations: urls.map((url, index) => ({ url: `${url}#${index}`, metadata: {} })),
        });
        const all = locationsOf(active, settings.serviceBucket);
        const edit = apply(active, [{ op: 'replace', path: '/locations', value: all }]);
        expect(edit).toBeUndefined();
        expect(statusOf(() => apply(active, [{ op: 'remove', path: '/locations/0' }]))).toBe(403);
      }),
    );
  });

  it.each([
    [
      'add to a saving image',
      image({ status: 'saving' }),
      [{ op: 'add', path: '/locations/-', value: { url: 'https://e.com/a', metadata: {} } }],
      409,
    ],
    ['remove from a queued image', image(), [{ op: 'remove', path: '/locations/0' }], 409],
    [
      'remove the last location',
      image({ status: 'active', locations: [{ url: 'https://e.com/a', metadata: {} }] }),
      [{ op: 'remove', path: '/locations/0' }],
      403,
    ],
    [
      'remove past the end',
      image({
        status: 'active',
        locations: [
          { url: 'https://e.com/a', metadata: {} },
          { url: 'https://e.com/b', metadata: {} },
        ],
      }),
      [{ op: 'remove', path: '/locations/2' }],
      400,
    ],
    [
      'a duplicate',
      image({ status: 'active', locations: [{ url: 'https://e.com/a', metadata: {} }] }),
      [{ op: 'add', path: '/locations/-', value: { url: 'https://e.com/a', metadata: {} } }],
      400,
    ],
    [
      'a bad scheme',
      image(),
      [{ op: 'add', path: '/locations/-', value: { url: 'gopher://x', metadata: {} } }],
      400,
    ],
    [
      'a replace that drops a URL',
      image({
        status: 'active',
        locations: [
          { url: 'https://e.com/a', metadata: {} },
          { url: 'https://e.com/b', metadata: {} },
        ],
      }),
      [{ op: 'replace', path: '/locations', value: [{ url: 'https://e.com/a', metadata: {} }] }],
      400,
    ],
    ['a replace that is not a list', image(), [{ op: 'replace', path: '/locations', value: 'x' }], 400],
  ])('refuses %s', (_what, record, operations, status) => {
    expect(statusOf(() => apply(record, operations))).toBe(status);
  });
});
