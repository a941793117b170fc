/**
 * Which location URLs the service accepts (docs/locations.md#accepted-urls). Pure but for the DNS lookup of
 * `checkLocationWithDns`.
 *
 * - `s3://bucket/key`: only inside an operator allow-list of `s3://bucket/prefix` entries (the grants of the functions
 *   that read locations follow from the same list), and never under the service's own data prefixes (`images/`,
 *   `staging/`), whatever the list says: a tenant must not register another image's data as its own.
 * - `https://` and `http://`: through the web-download URI filter (docs/import-workflow.md#uri-filter), so a location
 *   can never point at the instance metadata endpoint or a private address; `http` only where that filter allows it.
 */

import { checkUri, checkUriWithDns, type UriFilter, UriRefused } from '#shared/import/uri-filter';
import { DATA_PREFIXES } from '#shared/storage/bucket';

/** One allowed `s3://bucket/prefix` (prefix may be empty: the whole bucket). */
export interface S3Prefix {
  readonly bucket: string;
  readonly prefix: string;
}

export interface LocationSettings {
  /** Where `s3://` locations may point (`LOCATION_S3_ALLOWED`). */
  readonly s3Allowed: readonly S3Prefix[];
  /** The service's bucket: its data prefixes are never a location. */
  readonly serviceBucket: string;
  /** Glance's `show_multiple_locations`: the legacy `/locations` patch, `locations` and `direct_url` in the view. */
  readonly showMultipleLocations: boolean;
}

/** What an image's view reads of them. */
export type LocationView = Pick<LocationSettings, 'showMultipleLocations' | 'serviceBucket'>;

export type LocationTarget =
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'http'; readonly url: URL };

/** The URL is not a location this deployment accepts; the message says why (a 400, or a failed task). */
export class LocationRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocationRefused';
  }
}

/** S3 bucket names: 3-63 lower-case letters, digits, dots and hyphens. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Glance's location schema caps `url` at 255 characters. */
export const MAX_LOCATION_URL_LENGTH = 255;

/** Splits `s3://bucket/rest`; undefined when it is not one. */
const splitS3 = (url: string): { bucket: string; rest: string } | undefined => {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/s.exec(url);
  if (!match || !BUCKET.test(match[1] ?? '')) return undefined;
  return { bucket: match[1] as string, rest: match[2] ?? '' };
};

/** Parses one allow-list entry (`s3://bucket/prefix/` or `s3://bucket`); undefined when malformed. */
export const parseS3Prefix = (entry: string): S3Prefix | undefined => {
  const parts = splitS3(entry.trim());
  return parts ? { bucket: parts.bucket, prefix: parts.rest } : undefined;
};

export const s3PrefixUrl = (entry: S3Prefix): string => `s3://${entry.bucket}/${entry.prefix}`;

/** The default allow-list: the `locations/` prefix of the service's own bucket. */
export const defaultS3Allowed = (serviceBucket: string): S3Prefix[] => [
  { bucket: serviceBucket, prefix: 'locations/' },
];

/** The bucket and key of an `s3://bucket/key` URL; undefined for anything else. */
export const parseS3Url = (url: string): { bucket: string; key: string } | undefined => {
  const parts = splitS3(url);
  return parts && parts.rest !== '' ? { bucket: parts.bucket, key: parts.rest } : undefined;
};

/** `s3://bucket/key` of an object. */
export const s3Url = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

const checkS3 = (url: string, settings: LocationSettings): LocationTarget => {
  const parts = splitS3(url);
  if (!parts) throw new LocationRefused(`'${url}' is not an s3://bucket/key URL.`);
  const { bucket, rest: key } = parts;
  if (key === '' || key.endsWith('/')) throw new LocationRefused(`'${url}' names no object.`);
  if ([...key].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)) {
    throw new LocationRefused(`'${url}' has control characters.`);
  }
  if (bucket === settings.serviceBucket && DATA_PREFIXES.some((prefix) => key.startsWith(prefix))) {
    throw new LocationRefused(`'${url}' is image data the service manages; it cannot be a location.`);
  }
  if (!settings.s3Allowed.some((entry) => entry.bucket === bucket && key.startsWith(entry.prefix))) {
    const allowed = settings.s3Allowed.map(s3PrefixUrl).join(', ') || 'none';
    throw new LocationRefused(`'${url}' is outside the S3 locations this deployment allows (${allowed}).`);
  }
  return { kind: 's3', bucket, key };
};

const checkType = (url: unknown): string => {
  if (typeof url !== 'string' || url === '') throw new LocationRefused('A location needs a url string.');
  if (url.length > MAX_LOCATION_URL_LENGTH) {
    throw new LocationRefused(`A location url is at most ${MAX_LOCATION_URL_LENGTH} characters.`);
  }
  return url;
};

const schemeOf = (url: string): string => /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() ?? '';

/** The checks that need no network: scheme, allow-list, URI filter on the literal URL. */
export const checkLocation = (
  url: unknown,
  settings: LocationSettings,
  filter: UriFilter,
): LocationTarget => {
  const text = checkType(url);
  const scheme = schemeOf(text);
  if (scheme === 's3') return checkS3(text, settings);
  if (scheme !== 'http' && scheme !== 'https') {
    throw new LocationRefused(`Location scheme '${scheme || text}' is not supported (s3, https, http).`);
  }
  try {
    return { kind: 'http', url: checkUri(filter, text) };
  } catch (error) {
    if (error instanceof UriRefused)
      throw new LocationRefused(error.message.replace('web-download', 'locations'));
    throw error;
  }
};

/** `checkLocation`, and for http(s) every address the host resolves to now must pass the filter. */
export const checkLocationWithDns = async (
  url: unknown,
  settings: LocationSettings,
  filter: UriFilter,
): Promise<LocationTarget> => {
  const target = checkLocation(url, settings, filter);
  if (target.kind === 's3') return target;
  try {
    await checkUriWithDns(filter, target.url.href);
  } catch (error) {
    if (error instanceof UriRefused)
      throw new LocationRefused(error.message.replace('web-download', 'locations'));
    throw error;
  }
  return target;
};
