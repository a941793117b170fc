/**
 * The Glance image entity (docs/api.md#image-entity) built from a stored record: base fields always present
 * (null when unset), additional properties flattened in, hidden bookkeeping left out.
 */
import { locationsView } from '#shared/locations/image-locations';
import type { LocationView } from '#shared/locations/url';
import { HIDDEN_PROPERTIES, type ImageRecord } from './model.ts';

/** Glance renders timestamps as `YYYY-MM-DDThh:mm:ssZ`: UTC, no fraction. */
export const glanceTime = (iso: string): string => `${iso.slice(0, 19)}Z`;

export type ImageView = Record<string, unknown>;

/**
 * With `show_multiple_locations` on (docs/locations.md#legacy-patch), `locations` and `direct_url` are shown, as
 * Glance does; otherwise never.
 */
export const imageView = (image: ImageRecord, locations?: LocationView): ImageView => {
  const properties = Object.fromEntries(
    Object.entries(image.properties).filter(
      ([key]) => !(HIDDEN_PROPERTIES as readonly string[]).includes(key),
    ),
  );
  return {
    ...properties,
    id: image.id,
    name: image.name,
    status: image.status,
    visibility: image.visibility,
    protected: image.protected,
    os_hidden: image.os_hidden,
    checksum: image.checksum,
    os_hash_algo: image.os_hash_algo,
    os_hash_value: image.os_hash_value,
    owner: image.owner,
    size: image.size,
    virtual_size: image.virtual_size,
    container_format: image.container_format,
    disk_format: image.disk_format,
    min_disk: image.min_disk,
    min_ram: image.min_ram,
    tags: [...image.tags],
    created_at: glanceTime(image.created_at),
    updated_at: glanceTime(image.updated_at),
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: '/v2/schemas/image',
    ...(locations?.showMultipleLocations ? locationsView(image, locations.serviceBucket) : {}),
  };
};
