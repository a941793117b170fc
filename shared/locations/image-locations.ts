/**
 * An image's locations as Glance lists them (docs/locations.md#legacy-patch): the service's own copy of the data
 * first, when it has one, then the registered locations. Pure.
 */
import type { ImageLocation, ImageRecord } from '#shared/images/model';
import { hasUsableData } from '#shared/status-rules';
import { s3Url } from './url.ts';

/** The service's own copy of the data, as a location (first in the list, as Glance lists its store first). */
export const ownLocation = (
  image: Pick<ImageRecord, 'status' | 'data_key'>,
  serviceBucket: string,
): ImageLocation | undefined =>
  image.data_key && hasUsableData(image.status)
    ? { url: s3Url(serviceBucket, image.data_key), metadata: {} }
    : undefined;

/** Every location of the image: its own data first, then the registered ones. */
export const locationsOf = (
  image: Pick<ImageRecord, 'status' | 'data_key' | 'locations'>,
  serviceBucket: string,
): ImageLocation[] => {
  const own = ownLocation(image, serviceBucket);
  return [...(own ? [own] : []), ...(image.locations ?? [])];
};

/** The view fields of `show_multiple_locations`: `locations`, and `direct_url` (the first one) when there is one. */
export const locationsView = (
  image: Pick<ImageRecord, 'status' | 'data_key' | 'locations'>,
  serviceBucket: string,
): { locations: ImageLocation[]; direct_url?: string } => {
  const locations = locationsOf(image, serviceBucket);
  const [first] = locations;
  return first ? { locations, direct_url: first.url } : { locations };
};
