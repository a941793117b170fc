/**
 * Where a download of an image is redirected (docs/locations.md#downloads): the service's own data or an `s3://`
 * location → a presigned GET (signed with the function's role, whose read grant covers the allowed location prefixes);
 * an `http(s)://` location → the URL itself. Undefined when the image has no data.
 */
import type { ImageRecord } from '#shared/images/model';
import { ObjectStore } from '#shared/storage/object-store';
import { presignGet } from '#shared/storage/presign';
import { parseS3Url } from './url.ts';

export const downloadUrl = async (
  image: Pick<ImageRecord, 'data_key' | 'locations'>,
  store: ObjectStore,
  expiresInSeconds: number,
): Promise<string | undefined> => {
  if (image.data_key) return presignGet(store, image.data_key, expiresInSeconds);
  const [first] = image.locations ?? [];
  if (!first) return undefined;
  const s3 = parseS3Url(first.url);
  if (!s3) return first.url;
  return presignGet(new ObjectStore(store.s3, s3.bucket), s3.key, expiresInSeconds);
};
