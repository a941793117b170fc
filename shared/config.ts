/**
 * The one module that reads the environment. Each setting is read and validated here, in typed
 * sections (the service, the data path's upload settings, the import's URI filter and state
 * machine, the Keystone authorizer, the AWS endpoints, the test-only switches); a missing or
 * malformed value throws `MissingConfigError` naming the variable. Deploy-time settings are read
 * with their definitions in shared/settings.ts, the same the stack checks the CDK context with.
 * The readers read afresh on every call (tests change the environment between them); the runtime
 * wiring (shared/runtime.ts) calls each once per container and keeps the answer.
 */
import type { DataLimits } from '#shared/data/limits';
import type { ImageFormatPolicy } from '#shared/image-format/decision';
import type { UriFilter } from '#shared/import/uri-filter';
import {
  defaultS3Allowed,
  type LocationSettings,
  type LocationView,
  parseS3Prefix,
  type S3Prefix,
} from '#shared/locations/url';
import type { Limits, QuotaName } from '#shared/quotas/usage';
import {
  booleanSetting,
  delayedDelete,
  downloadUrlSeconds,
  imageFormatGptNonfatalChecks,
  imageFormatRequireMatch,
  imageFormatVmdkAllowedTypes,
  imageMemberQuota,
  imageSizeCap,
  importAllowedHosts,
  importAllowedNetworks,
  importAllowedPorts,
  importAllowedSchemes,
  importDisallowedHosts,
  importDisallowedPorts,
  importDisallowedSchemes,
  integerSetting,
  limitSetting,
  listSetting,
  locationS3Allowed,
  multipartGraceSeconds,
  multipartPartSizeBytes,
  multipartThresholdBytes,
  presignMaxPartUrls,
  quotaImageCountTotal,
  quotaImageCountUploading,
  quotaImageSizeTotal,
  quotaImageStageTotal,
  type Setting,
  SettingError,
  scrubTimeSeconds,
  showMultipleLocations,
  sizeCapFor,
  sweepRefinaliseAfterSeconds,
  taskTimeToLiveHours,
  uploadGraceSeconds,
  uploadUrlSeconds,
  verifyBytesPerSecond,
} from '#shared/settings';

export class MissingConfigError extends Error {}

/** The value of a variable that must be set. */
export const requiredEnv = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new MissingConfigError(`environment variable ${name} is required`);
  }
  return value;
};

/** The value of an optional variable, or its default. */
export const optionalEnv = (name: string, fallback: string): string => {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
};

/** An integer variable; a non-integer value is a configuration error. */
export const integerEnv = (name: string, fallback: number): number => {
  const raw = optionalEnv(name, String(fallback));
  const value = Number(raw);
  if (!Number.isSafeInteger(value))
    throw new MissingConfigError(`environment variable ${name} must be an integer`);
  return value;
};

export const booleanEnv = (name: string, fallback: boolean): boolean =>
  optionalEnv(name, String(fallback)).toLowerCase() === 'true';

/**
 * A comma-separated list, lower-cased; unset gives the default, the empty string an empty list
 * (no restriction of that kind).
 */
export const listEnv = (name: string, fallback: readonly string[]): string[] => {
  const raw = process.env[name];
  if (raw === undefined) return [...fallback];
  return raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
};

// ---------------------------------------------------------------------------------------------
// Deploy-time settings (shared/settings.ts declares each: variable, type, default, bounds)

/**
 * A setting's value from its environment variable, read by `read` (integerSetting,
 * booleanSetting, listSetting): unset gives its default, a value that does not fit fails naming
 * the variable.
 */
export const settingEnv = <S extends Setting & { readonly env: string }, T>(
  setting: S,
  read: (setting: S, raw: unknown) => T,
): T => {
  try {
    return read(setting, process.env[setting.env]);
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    throw new MissingConfigError(`environment variable ${setting.env} ${error.message}`);
  }
};

// ---------------------------------------------------------------------------------------------
// The service

export interface ServiceConfig {
  readonly tableName: string;
  readonly bucketName: string;
  /** glance_store `delayed_delete`: deleting an image with data leaves it `pending_delete`. */
  readonly delayedDelete: boolean;
  /** Glance's `scrub_time`: seconds a `pending_delete` image keeps its data before the scrubber. */
  readonly scrubTimeSeconds: number;
  readonly limits: DataLimits;
  /**
   * Bytes per second one verification reads (docs/uploads.md#how-large-an-image-one-invocation-verifies):
   * the size cap may not exceed what one invocation verifies at this rate.
   */
  readonly verifyBytesPerSecond: number;
  /** `[task] task_time_to_live`: hours a finished task stays listed (`expires_at`), docs/lifecycle.md#task-statuses. */
  readonly taskTimeToLiveHours: number;
  /** Glance's `image_member_quota`: most members one image may have (docs/api.md#members). */
  readonly imageMemberQuota: number;
}

/**
 * The largest `image_member_quota`: an image's members share one DynamoDB item (with 255-character
 * ids, about 360 bytes each), which must stay well below the 400 KB item limit.
 */
export const MAX_IMAGE_MEMBER_QUOTA = imageMemberQuota.max;

/** The deployment's quota limits by Glance's name (shared/settings.ts declares each). */
const QUOTA_SETTINGS = {
  image_size_total: quotaImageSizeTotal,
  image_stage_total: quotaImageStageTotal,
  image_count_total: quotaImageCountTotal,
  image_count_uploading: quotaImageCountUploading,
} as const;

/** The variable that sets a quota's deployment limit: `GLANCE_QUOTA_IMAGE_SIZE_TOTAL`, ... */
export const quotaVariable = (name: QuotaName): string => QUOTA_SETTINGS[name].env;

/**
 * Glance's unified limits for every project (docs/quotas.md): each `GLANCE_QUOTA_<NAME>` is a
 * non-negative integer (MiB for the sizes), unset is unlimited. `USER_STORAGE_QUOTA` (bytes) is
 * gone: a deployment still setting it fails rather than silently losing its quota. Read apart
 * from the service's other settings, by the ledger when a write first needs room (shared/runtime.ts).
 */
export const readQuotaDefaults = (): Limits => {
  const legacy = process.env.USER_STORAGE_QUOTA?.trim();
  if (legacy && legacy !== '0') {
    throw new MissingConfigError(
      'environment variable USER_STORAGE_QUOTA is no longer read: set GLANCE_QUOTA_IMAGE_SIZE_TOTAL (MiB per project) instead',
    );
  }
  return {
    image_size_total: settingEnv(quotaImageSizeTotal, limitSetting),
    image_stage_total: settingEnv(quotaImageStageTotal, limitSetting),
    image_count_total: settingEnv(quotaImageCountTotal, limitSetting),
    image_count_uploading: settingEnv(quotaImageCountUploading, limitSetting),
  };
};

/** What every data function needs: the table, the bucket, the limits and the lifetimes. */
export const readServiceConfig = (): ServiceConfig => {
  const rate = settingEnv(verifyBytesPerSecond, integerSetting);
  // One 15-minute invocation (the S3 trigger, a sweeper re-drive, the import's Verify) must
  // verify a whole image: unset, the cap follows from the verification rate; set, it may not pass it.
  const given = process.env[imageSizeCap.env] ? settingEnv(imageSizeCap, integerSetting) : undefined;
  let sizeCap: number;
  try {
    sizeCap = sizeCapFor(given, rate);
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    throw new MissingConfigError(`environment variable ${imageSizeCap.env} ${error.message}`);
  }
  return {
    tableName: requiredEnv('TABLE_NAME'),
    bucketName: requiredEnv('BUCKET_NAME'),
    delayedDelete: settingEnv(delayedDelete, booleanSetting),
    scrubTimeSeconds: settingEnv(scrubTimeSeconds, integerSetting),
    limits: { sizeCap },
    verifyBytesPerSecond: rate,
    taskTimeToLiveHours: settingEnv(taskTimeToLiveHours, integerSetting),
    imageMemberQuota: settingEnv(imageMemberQuota, integerSetting),
  };
};

// ---------------------------------------------------------------------------------------------
// Disk-format inspection: Glance's `[image_format]` options (docs/image-formats.md#configuration)

export const readImageFormatPolicy = (): ImageFormatPolicy => ({
  requireImageFormatMatch: settingEnv(imageFormatRequireMatch, booleanSetting),
  vmdkAllowedTypes: settingEnv(imageFormatVmdkAllowedTypes, listSetting),
  gptSafetyChecksNonfatal: settingEnv(imageFormatGptNonfatalChecks, listSetting),
});

// ---------------------------------------------------------------------------------------------
// The data path (decisions D2, D5, D6): every value has a safe default, and bounds

export interface UploadSettings {
  /** Lifetime of presigned upload URLs (PUT and UploadPart), at most 15 minutes. */
  readonly uploadUrlSeconds: number;
  /** Added to a single PUT's URL expiry to make its deadline (the upload may still be running). */
  readonly uploadGraceSeconds: number;
  /**
   * Added to a multipart upload's latest URL expiry to make its deadline: long enough for an
   * interrupted upload to be resumed, after which the sweeper aborts it.
   */
  readonly multipartGraceSeconds: number;
  /** Declared sizes above this get a multipart plan; at most the 5 GiB single-PUT limit. */
  readonly multipartThreshold: number;
  /** Preferred part size (raised when the object would need more than 10,000 parts). */
  readonly partSize: number;
  /** Most part URLs one response carries; the rest are asked for by `upload_id` (re-sign). */
  readonly maxPartUrls: number;
  /** Lifetime of the presigned download URL, at most 5 minutes. */
  readonly downloadUrlSeconds: number;
  /**
   * The sweeper re-drives finalisation of an object that arrived but was not finalised only once it
   * is this old: until then the S3 trigger may still be at work (its timeout is 15 minutes).
   */
  readonly refinaliseAfterSeconds: number;
}

export const readUploadSettings = (): UploadSettings => ({
  uploadUrlSeconds: settingEnv(uploadUrlSeconds, integerSetting),
  uploadGraceSeconds: settingEnv(uploadGraceSeconds, integerSetting),
  multipartGraceSeconds: settingEnv(multipartGraceSeconds, integerSetting),
  multipartThreshold: settingEnv(multipartThresholdBytes, integerSetting),
  partSize: settingEnv(multipartPartSizeBytes, integerSetting),
  maxPartUrls: settingEnv(presignMaxPartUrls, integerSetting),
  downloadUrlSeconds: settingEnv(downloadUrlSeconds, integerSetting),
  refinaliseAfterSeconds: settingEnv(sweepRefinaliseAfterSeconds, integerSetting),
});

// ---------------------------------------------------------------------------------------------
// The import

/** The web-download URI filter (`IMPORT_*` variables; the rules are in shared/import/uri-filter.ts). */
export const uriFilterFromEnv = (): UriFilter => ({
  allowedSchemes: settingEnv(importAllowedSchemes, listSetting),
  disallowedSchemes: settingEnv(importDisallowedSchemes, listSetting),
  allowedHosts: settingEnv(importAllowedHosts, listSetting),
  disallowedHosts: settingEnv(importDisallowedHosts, listSetting),
  allowedPorts: settingEnv(importAllowedPorts, listSetting).map(Number),
  disallowedPorts: settingEnv(importDisallowedPorts, listSetting).map(Number),
  allowedNetworks: settingEnv(importAllowedNetworks, listSetting),
});

/**
 * Locations (docs/locations.md#configuration): where `s3://` locations may point
 * (`LOCATION_S3_ALLOWED`; unset: the `locations/` prefix of the service's bucket; empty: none), and
 * Glance's `show_multiple_locations` (`SHOW_MULTIPLE_LOCATIONS`).
 */
export const readLocationSettings = (): LocationSettings => {
  const view = readLocationView();
  const entries = settingEnv(locationS3Allowed, listSetting);
  return {
    s3Allowed:
      entries === null
        ? defaultS3Allowed(view.serviceBucket)
        : entries.map((entry) => parseS3Prefix(entry) as S3Prefix),
    ...view,
  };
};

/**
 * What an image's view needs of the location settings: the functions that only show images parse
 * no `LOCATION_S3_ALLOWED` (docs/benchmarks.md#cold-start).
 */
export const readLocationView = (): LocationView => ({
  serviceBucket: requiredEnv('BUCKET_NAME'),
  showMultipleLocations: settingEnv(showMultipleLocations, booleanSetting),
});

/** The import state machine the API starts executions of (set only on the functions that do). */
export const readStateMachineArn = (): string => requiredEnv('STATE_MACHINE_ARN');

/** The function that assembles multipart uploads (docs/uploads.md#completing-a-multipart-upload), by name. */
export const readCompleteUploadFunction = (): string => requiredEnv('COMPLETE_UPLOAD_FUNCTION');

// ---------------------------------------------------------------------------------------------
// Identity mode `keystone` (docs/identity.md#keystone-mode): the authorizer's settings

export interface KeystoneConfig {
  /** The identity endpoint, with or without `/v3`. */
  readonly url: string;
  /** Secrets Manager secret (name or ARN) holding the service user's credentials as JSON. */
  readonly serviceSecret: string;
  /** keystonemiddleware's `token_cache_time`: how long a validation is trusted (never past expiry). */
  readonly cacheSeconds: number;
  /** Per request to Keystone. */
  readonly timeoutMs: number;
}

export const readKeystoneConfig = (): KeystoneConfig => ({
  url: requiredEnv('KEYSTONE_URL'),
  serviceSecret: requiredEnv('KEYSTONE_SERVICE_SECRET'),
  cacheSeconds: integerEnv('KEYSTONE_CACHE_SECONDS', 300),
  timeoutMs: integerEnv('KEYSTONE_TIMEOUT_MS', 3000),
});

// ---------------------------------------------------------------------------------------------
// AWS endpoints and test switches

/**
 * The endpoint the standard `AWS_ENDPOINT_URL_<SERVICE>` variable names (the local stack points the
 * clients at the emulators with these), or undefined on AWS.
 */
export const awsEndpoint = (service: 'DYNAMODB' | 'S3'): string | undefined =>
  process.env[`AWS_ENDPOINT_URL_${service}`] || undefined;

/**
 * Whether the environment gives the AWS SDK a region and an access key of its own; an operator
 * CLI pointed at the local emulators supplies dummy ones otherwise (shared/runtime.ts).
 */
export const sdkEnvironment = (): { readonly hasRegion: boolean; readonly hasCredentials: boolean } => ({
  hasRegion: Boolean(process.env.AWS_REGION),
  hasCredentials: Boolean(process.env.AWS_ACCESS_KEY_ID),
});

/** `TABLE_NAME` when set: the table an operator CLI works on without `--table`. */
export const tableNameEnv = (): string | undefined => process.env.TABLE_NAME || undefined;

/** `LOCAL_FAULTS=1`: the import steps obey injected faults (tests only; shared/import/faults.ts). */
export const localFaultsEnabled = (): boolean => process.env.LOCAL_FAULTS === '1';

/** `DIGEST_THREADS=1`: hash on one thread even when a second CPU is there (benchmarks). */
export const singleDigestThread = (): boolean => process.env.DIGEST_THREADS === '1';
