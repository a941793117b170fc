/**
 * The data check of a `location_import` task (docs/locations.md#the-location_import-task): the location's data is read
 * once where it is (a ranged S3 read, `ObjectStore.openRanged`, or an HTTP GET through the filtering lookup of
 * web-download) by the one verify pass (shared/data/verify.ts): size, md5, sha512 and the disk-format inspection
 * (shared/image-format/), stopped at the size cap / quota and before the function's time is up. Then: the announced
 * length, `validation_data`, the hashes already on the image, and the inspector's verdict against the declared formats.
 * Nothing is copied: the data stays where it is.
 */
import { DataTooLarge, type Digest } from '#shared/data/digest';
import { type ChunkSource, type TimeBudget, VerificationTimedOut, verifyData } from '#shared/data/verify';
import { decideImageData, type ImageFormatPolicy } from '#shared/image-format/decision';
import type { ImageRecord } from '#shared/images/model';
import { ImportError } from '#shared/import/errors';
import type { UriFilter } from '#shared/import/uri-filter';
import { openDownload } from '#shared/import/web-download';
import { ObjectStore } from '#shared/storage/object-store';
import { checkLocation, LocationRefused, type LocationSettings, type LocationTarget } from './url.ts';

export interface LocationReadDeps {
  /** The service's store: its S3 client reads other buckets too. */
  readonly store: ObjectStore;
  readonly filter: UriFilter;
  readonly locations: LocationSettings;
  readonly formatPolicy: ImageFormatPolicy;
}

export interface VerifiedLocation extends Digest {
  readonly virtual_size: number | null;
}

/** The location as the workflow reads it: checked again (settings may have changed since the request). */
export const locationTargetOf = (
  url: string,
  settings: LocationSettings,
  filter: UriFilter,
): LocationTarget => {
  try {
    return checkLocation(url, settings, filter);
  } catch (error) {
    if (error instanceof LocationRefused) throw new ImportError(error.message, { cause: error });
    throw error;
  }
};

/** The location's bytes as a chunk source for the verify pass, and their length when the source announces it. */
export const openLocation = async (
  url: string,
  deps: LocationReadDeps,
  maxBytes: number,
): Promise<{ chunks: ChunkSource; size: number | undefined }> => {
  const target = locationTargetOf(url, deps.locations, deps.filter);
  if (target.kind === 'http') {
    const download = await openDownload(target.url.href, { filter: deps.filter, maxBytes });
    return { chunks: () => download.body, size: download.contentLength };
  }
  const object = await new ObjectStore(deps.store.s3, target.bucket).openRanged(target.key);
  if (!object) throw new ImportError(`There is no object at ${url}.`);
  return { chunks: object.chunks, size: object.size };
};

/** Reads the location once and checks it; `ImportError` says what is wrong. */
export const verifyLocationData = async (
  image: ImageRecord,
  url: string,
  expected: { readonly osHashValue: string | undefined },
  deps: LocationReadDeps,
  maxBytes: number,
  budget?: TimeBudget,
): Promise<VerifiedLocation> => {
  const tooLarge = (size?: number) =>
    new ImportError(
      `The data at ${url}${size === undefined ? '' : ` (${size} bytes)`} is larger than the ${maxBytes} bytes this image may hold (size cap or the project's storage quota).`,
    );
  const { chunks, size } = await openLocation(url, deps, maxBytes);
  if (size !== undefined && size > maxBytes) throw tooLarge(size);
  const inspect = image.container_format === 'bare';
  let verified: Awaited<ReturnType<typeof verifyData>>;
  try {
    verified = await verifyData(chunks, {
      maxBytes,
      inspect,
      ...(size === undefined ? {} : { expectedBytes: size }),
      ...(budget ? { budget } : {}),
    });
  } catch (error) {
    if (error instanceof DataTooLarge) throw tooLarge();
    if (error instanceof VerificationTimedOut) {
      throw new ImportError(
        `The data at ${url} could not be verified within the function time limit: ${error.bytes} bytes read in ${Math.round(error.ms / 1000)} s.`,
      );
    }
    throw error;
  }
  const { digest, inspection } = verified;
  if (size !== undefined && digest.size !== size) {
    throw new ImportError(`Read ${digest.size} bytes from ${url}, which announced ${size}.`);
  }
  if (digest.size === 0) throw new ImportError(`The data at ${url} is empty.`);
  const mismatch = (what: string, found: unknown, wanted: unknown, by: string) =>
    new ImportError(`The data's ${what} is ${String(found)}, but ${by} ${String(wanted)}.`);
  if (expected.osHashValue !== undefined && expected.osHashValue !== digest.os_hash_value) {
    throw mismatch('os_hash_value', digest.os_hash_value, expected.osHashValue, 'validation_data says');
  }
  if (image.size !== null && image.size !== digest.size) {
    throw mismatch('size', digest.size, image.size, 'the image records');
  }
  if (image.checksum !== null && image.checksum !== digest.checksum) {
    throw mismatch('checksum', digest.checksum, image.checksum, 'the image records');
  }
  if (image.os_hash_value !== null && image.os_hash_value !== digest.os_hash_value) {
    throw mismatch('os_hash_value', digest.os_hash_value, image.os_hash_value, 'the image records');
  }
  const format = inspection ? decideImageData(image, inspection, deps.formatPolicy) : undefined;
  if (format && !format.accept) throw new ImportError(format.reason);
  return { ...digest, virtual_size: format?.virtual_size ?? null };
};
