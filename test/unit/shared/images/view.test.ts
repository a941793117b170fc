import { describe, expect, it } from 'vitest';
import { BASE_ATTRIBUTES } from '#shared/images/model';
import { glanceTime, imageView } from '#shared/images/view';
import { queuedImage } from '#test/helpers/images';

describe('imageView', () => {
  const image = queuedImage(
    {
      properties: {
        os_distro: 'cirros',
        os_glance_stage_host: 'http://worker',
        os_glance_failure_reason: 'why',
      },
      created_at: '2026-01-02T03:04:05.678Z',
      updated_at: '2026-01-02T03:04:06.999Z',
    },
    new Date('2026-01-02T03:04:05.678Z'),
  );
  const view = imageView(image);

  it('renders every base attribute, unset ones as null', () => {
    for (const attribute of BASE_ATTRIBUTES) expect(view).toHaveProperty(attribute);
    expect(view).toMatchObject({ checksum: null, size: null, virtual_size: null, os_hash_value: null });
  });

  it('flattens additional properties and hides worker-host bookkeeping', () => {
    expect(view).toMatchObject({ os_distro: 'cirros', os_glance_failure_reason: 'why' });
    expect(view).not.toHaveProperty('os_glance_stage_host');
  });

  it('renders Glance timestamps without fractions and the links', () => {
    expect(view).toMatchObject({
      created_at: '2026-01-02T03:04:05Z',
      updated_at: '2026-01-02T03:04:06Z',
      self: `/v2/images/${image.id}`,
      file: `/v2/images/${image.id}/file`,
      schema: '/v2/schemas/image',
    });
  });

  it('never leaks storage internals', () => {
    for (const internal of ['version', 'history', 'upload', 'data_key', 'pk', 'gsi1pk', 'properties']) {
      expect(view).not.toHaveProperty(internal);
    }
  });

  it('cannot let a property shadow a base attribute', () => {
    const sneaky = imageView({ ...image, properties: { status: 'active', id: 'x' } });
    expect(sneaky).toMatchObject({ status: 'queued', id: image.id });
  });
});

describe('glanceTime', () => {
  it.each([
    ['2026-11-26T16:20:14.123Z', '2026-11-26T16:20:14Z'],
    ['2026-11-26T16:20:14Z', '2026-11-26T16:20:14Z'],
  ])('%s → %s', (iso, expected) => {
    expect(glanceTime(iso)).toBe(expected);
  });
});
