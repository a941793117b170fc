/**
 * Every deploy-time setting of the service, declared once (docs/deploying.md#settings): its CDK
 * context key (`serverless-glance:<key>`), the environment variable the functions read it from
 * (none for settings only the infrastructure uses), its type, default and bounds. The stack reads
 * and checks the context with these definitions at synth (infra/settings.ts) and hands each value
 * to the functions in its variable; shared/config.ts reads the variables back with the very same
 * definitions. Pure: no AWS, no I/O.
 *
 * Each definition is its own constant, so a function bundle carries only the ones its
 * configuration reads; the registry `SETTINGS` is for the infrastructure and the tests.
 */
import { parseCidr } from '#shared/import/uri-filter';
import { parseS3Prefix } from '#shared/locations/url';
import { MAX_MULTIPART_SECONDS } from '#shared/uploads/lifetime';

interface Common {
  /** The CDK context key, without the `serverless-glance:` prefix. */
  readonly key: string;
  /** The environment variable the functions read it from; absent for infrastructure settings. */
  readonly env?: string;
}

export interface IntegerSetting extends Common {
  readonly kind: 'integer';
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** A stricter lower bound at synth (what AWS enforces; the local emulators accept less). */
  readonly deployMin?: number;
}

export interface BooleanSetting extends Common {
  readonly kind: 'boolean';
  readonly default: boolean;
}

export interface ListSetting extends Common {
  readonly kind: 'list';
  /** `null`: unset sets no variable, and the reader's own default applies (documented with it). */
  readonly default: readonly string[] | null;
  /** What each item must be, and its check (items are trimmed and lower-cased first). */
  readonly item?: { readonly describe: string; readonly valid: (item: string) => boolean };
  /** Items are names kept as written (VMDK create types), not lower-cased. */
  readonly keepCase?: boolean;
}

export interface ChoiceSetting extends Common {
  readonly kind: 'choice';
  readonly default: string;
  readonly choices: readonly string[];
}

export interface TextSetting extends Common {
  readonly kind: 'text';
  /** Absent: required, there is no sensible default (the identity provider). */
  readonly default?: string;
  /** The value must be an http(s) URL whose host is not a documentation placeholder. */
  readonly url?: boolean;
}

/**
 * A quota limit (docs/quotas.md#names-and-limits): a non-negative integer in the quota's unit, or
 * unset (`null`): unlimited, and no variable is set.
 */
export interface LimitSetting extends Common {
  readonly kind: 'limit';
  readonly default: null;
  /** The unit, for messages and docs: `MiB` or `images`. */
  readonly unit: string;
  readonly max: number;
}

/** A value per function (by construct name), for the functions that need one other than the default. */
export interface PerFunctionSetting extends Common {
  readonly kind: 'perFunction';
  readonly default: Readonly<Record<string, number>>;
  readonly min: number;
  readonly max: number;
}

export type Setting =
  | IntegerSetting
  | BooleanSetting
  | ListSetting
  | ChoiceSetting
  | TextSetting
  | LimitSetting
  | PerFunctionSetting;

export type SettingValue<S extends Setting> = S extends IntegerSetting
  ? number
  : S extends BooleanSetting
    ? boolean
    : S extends ListSetting
      ? S['default'] extends null
        ? string[] | null
        : string[]
      : S extends LimitSetting
        ? number | null
        : S extends PerFunctionSetting
          ? Record<string, number>
          : string;

/** A value that does not fit its setting; the reader says where it came from. */
export class SettingError extends Error {}

// Numbers are written as literals (S3's bounds from `S3_LIMITS` in shared/storage/bucket.ts, which
// a test keeps equal): esbuild leaves a definition out of a bundle that does not use it only when
// its initializer is free of side effects to its eyes, and a property read or even `24 * 3600` is
// not.

// ---------------------------------------------------------------------------------------------
// Images and data (docs/lifecycle.md#size-cap-and-quota, docs/uploads.md)

/**
 * Bytes per second one verification reads (docs/uploads.md#how-large-an-image-one-invocation-verifies):
 * the size cap may not exceed what one invocation verifies at this rate.
 */
export const verifyBytesPerSecond = {
  key: 'verifyBytesPerSecond',
  env: 'VERIFY_BYTES_PER_SECOND',
  kind: 'integer',
  default: 134_217_728, // 128 MiB/s (shared/data/limits.ts: hashing is the bound)
  min: 1_048_576,
  max: 10_737_418_240,
} as const satisfies IntegerSetting;

/**
 * Glance's `image_size_cap`: the largest image, in bytes. Unset, it is what one invocation verifies
 * at `verifyBytesPerSecond` in whole GiB (the default here is that at the default rate); set, it may
 * not pass what one invocation verifies (`sizeCapFor`).
 */
export const imageSizeCap = {
  key: 'imageSizeCap',
  env: 'IMAGE_SIZE_CAP',
  kind: 'integer',
  default: 112_742_891_520, // 105 * 1024 ** 3: what one invocation verifies at the default rate
  min: 1,
  max: 5_497_558_138_880, // 5 * 1024 ** 4, S3's largest object
} as const satisfies IntegerSetting;

/**
 * Seconds of one invocation that verify data: Lambda's 900 less 60 for the work around it
 * (shared/data/limits.ts `verifiableBytes`, which the tests hold this to).
 */
const VERIFY_SECONDS = 840;
const WHOLE_GIB = 1_073_741_824;

/** The size cap for a verification rate: the one given, or what the rate verifies in whole GiB; a cap the rate cannot verify is refused. */
export const sizeCapFor = (given: number | undefined, bytesPerSecond: number): number => {
  const verifiable = Math.floor(VERIFY_SECONDS * bytesPerSecond);
  const cap = given ?? Math.floor(verifiable / WHOLE_GIB) * WHOLE_GIB;
  if (cap > verifiable) {
    throw new SettingError(
      `must be at most ${verifiable}, what one invocation verifies at ${bytesPerSecond} bytes per second (verifyBytesPerSecond), not ${cap}`,
    );
  }
  return cap;
};

/** glance_store's `delayed_delete`: deleting an image with data leaves it `pending_delete` until the scrubber (T19, T20). */
export const delayedDelete = {
  key: 'delayedDelete',
  env: 'DELAYED_DELETE',
  kind: 'boolean',
  default: false,
} as const satisfies BooleanSetting;

/** Glance's `scrub_time`: seconds a `pending_delete` image keeps its data. */
export const scrubTimeSeconds = {
  key: 'scrubTimeSeconds',
  env: 'SCRUB_TIME_SECONDS',
  kind: 'integer',
  default: 0,
  min: 0,
  max: 31_536_000, // 365 * 24 * 3600
} as const satisfies IntegerSetting;

/** `[task] task_time_to_live`: hours a finished task stays listed (`expires_at`). */
export const taskTimeToLiveHours = {
  key: 'taskTimeToLiveHours',
  env: 'TASK_TIME_TO_LIVE',
  kind: 'integer',
  default: 48,
  min: 1,
  max: 8_760, // 365 * 24
} as const satisfies IntegerSetting;

/** Glance's `image_member_quota`: most members one image may have (docs/api.md#members); bounded by the one member item. */
export const imageMemberQuota = {
  key: 'imageMemberQuota',
  env: 'IMAGE_MEMBER_QUOTA',
  kind: 'integer',
  default: 128,
  min: 0,
  max: 500,
} as const satisfies IntegerSetting;

// ---------------------------------------------------------------------------------------------
// Quotas: Glance's unified limits, the same for every project unless the project has its own
// (docs/quotas.md#names-and-limits); the keys carry Glance's names. The largest limit keeps a size
// in MiB exact in bytes (`MAX_LIMIT` in shared/quotas/usage.ts, which a test keeps equal).

/** `image_size_total`: MiB of image data per project, uploads in flight counted by their declared size. */
export const quotaImageSizeTotal = {
  key: 'quota:image_size_total',
  env: 'GLANCE_QUOTA_IMAGE_SIZE_TOTAL',
  kind: 'limit',
  default: null,
  unit: 'MiB',
  max: 8_589_934_591,
} as const satisfies LimitSetting;

/** `image_stage_total`: MiB of staged data per project. */
export const quotaImageStageTotal = {
  key: 'quota:image_stage_total',
  env: 'GLANCE_QUOTA_IMAGE_STAGE_TOTAL',
  kind: 'limit',
  default: null,
  unit: 'MiB',
  max: 8_589_934_591,
} as const satisfies LimitSetting;

/** `image_count_total`: images per project (killed ones included, D1). */
export const quotaImageCountTotal = {
  key: 'quota:image_count_total',
  env: 'GLANCE_QUOTA_IMAGE_COUNT_TOTAL',
  kind: 'limit',
  default: null,
  unit: 'images',
  max: 8_589_934_591,
} as const satisfies LimitSetting;

/** `image_count_uploading`: images per project with an upload, a staging or an import in progress. */
export const quotaImageCountUploading = {
  key: 'quota:image_count_uploading',
  env: 'GLANCE_QUOTA_IMAGE_COUNT_UPLOADING',
  kind: 'limit',
  default: null,
  unit: 'images',
  max: 8_589_934_591,
} as const satisfies LimitSetting;

// ---------------------------------------------------------------------------------------------
// Locations (docs/locations.md#configuration)

/**
 * Where `s3://` locations may point: `s3://bucket/prefix` entries, kept as written (keys are
 * case-sensitive). Unset: the `locations/` prefix of the service's bucket; empty: no `s3://`
 * locations. The same list becomes the read grants of the functions that read locations.
 */
export const locationS3Allowed = {
  key: 'locationS3Allowed',
  env: 'LOCATION_S3_ALLOWED',
  kind: 'list',
  default: null,
  keepCase: true,
  item: { describe: 's3://bucket/prefix', valid: (item: string) => parseS3Prefix(item) !== undefined },
} as const satisfies ListSetting;

/** Glance's `show_multiple_locations`: the legacy `locations` view and `/locations` patch. */
export const showMultipleLocations = {
  key: 'showMultipleLocations',
  env: 'SHOW_MULTIPLE_LOCATIONS',
  kind: 'boolean',
  default: false,
} as const satisfies BooleanSetting;

// ---------------------------------------------------------------------------------------------
// Disk-format inspection: Glance's `[image_format]` options (docs/image-formats.md#configuration)

/** `require_image_format_match`: data whose format differs from `disk_format` is refused. */
export const imageFormatRequireMatch = {
  key: 'imageFormatRequireMatch',
  env: 'IMAGE_FORMAT_REQUIRE_MATCH',
  kind: 'boolean',
  default: true,
} as const satisfies BooleanSetting;

/** `vmdk_allowed_types`: VMDK create types accepted, as written. */
export const imageFormatVmdkAllowedTypes = {
  key: 'imageFormatVmdkAllowedTypes',
  env: 'IMAGE_FORMAT_VMDK_ALLOWED_TYPES',
  kind: 'list',
  default: ['streamOptimized', 'monolithicSparse'],
  keepCase: true,
} as const satisfies ListSetting;

/** `gpt_safety_checks_nonfatal`: GPT checks whose failure is only logged. */
export const imageFormatGptNonfatalChecks = {
  key: 'imageFormatGptNonfatalChecks',
  env: 'IMAGE_FORMAT_GPT_NONFATAL_CHECKS',
  kind: 'list',
  default: [],
  // The GPT checks Glance lets an operator make nonfatal (shared/image-format/decision.ts GPT_NONFATAL_CHECKS).
  item: { describe: 'GPT check (mbr)', valid: (item: string) => item === 'mbr' },
} as const satisfies ListSetting;

// ---------------------------------------------------------------------------------------------
// Upload lifetimes and sizes (decisions D2, D5, D6)

/** Lifetime of presigned upload URLs (PUT and UploadPart). */
export const uploadUrlSeconds = {
  key: 'uploadUrlSeconds',
  env: 'UPLOAD_URL_SECONDS',
  kind: 'integer',
  default: 900,
  min: 1,
  max: 900,
} as const satisfies IntegerSetting;

/** A single PUT's deadline is its URL's expiry plus this. */
export const uploadGraceSeconds = {
  key: 'uploadGraceSeconds',
  env: 'UPLOAD_GRACE_SECONDS',
  kind: 'integer',
  default: 900,
  min: 0,
  max: 604_800, // 7 * 24 * 3600
} as const satisfies IntegerSetting;

/** A multipart upload's deadline is its latest URL's expiry plus this, so an interrupted upload can resume; within the bucket's multipart lifetime. */
export const multipartGraceSeconds = {
  key: 'multipartGraceSeconds',
  env: 'MULTIPART_GRACE_SECONDS',
  kind: 'integer',
  default: 86_400, // 24 * 3600
  min: 0,
  max: MAX_MULTIPART_SECONDS,
} as const satisfies IntegerSetting;

/** Declared sizes above this get a multipart plan. */
export const multipartThresholdBytes = {
  key: 'multipartThresholdBytes',
  env: 'MULTIPART_THRESHOLD_BYTES',
  kind: 'integer',
  default: 104_857_600, // 100 * 1024 ** 2
  min: 1,
  max: 5_368_709_120, // 5 * 1024 ** 3
} as const satisfies IntegerSetting;

/** Preferred part size (raised when an object would need more than 10,000 parts); S3 needs 5 MiB, the local s3rver takes less. */
export const multipartPartSizeBytes = {
  key: 'multipartPartSizeBytes',
  env: 'MULTIPART_PART_SIZE_BYTES',
  kind: 'integer',
  default: 67_108_864, // 64 * 1024 ** 2
  min: 1,
  deployMin: 5_242_880, // 5 * 1024 ** 2
  max: 5_368_709_120, // 5 * 1024 ** 3
} as const satisfies IntegerSetting;

/** Most part URLs one presign answer carries; the client asks for the rest by `upload_id`. */
export const presignMaxPartUrls = {
  key: 'presignMaxPartUrls',
  env: 'PRESIGN_MAX_PART_URLS',
  kind: 'integer',
  default: 1000,
  min: 1,
  max: 10_000,
} as const satisfies IntegerSetting;

/** Lifetime of the presigned download URL. */
export const downloadUrlSeconds = {
  key: 'downloadUrlSeconds',
  env: 'DOWNLOAD_URL_SECONDS',
  kind: 'integer',
  default: 300,
  min: 1,
  max: 300,
} as const satisfies IntegerSetting;

/** The sweeper finalises an object the S3 trigger never finalised once it is this old. */
export const sweepRefinaliseAfterSeconds = {
  key: 'sweepRefinaliseAfterSeconds',
  env: 'SWEEP_REFINALISE_AFTER_SECONDS',
  kind: 'integer',
  default: 900,
  min: 0,
  max: 86_400, // 24 * 3600
} as const satisfies IntegerSetting;

// ---------------------------------------------------------------------------------------------
// The web-download URI filter: Glance's [import_filtering_opts] (docs/import-workflow.md#uri-filter)

const isPort = (item: string) => /^\d{1,5}$/.test(item) && Number(item) >= 1 && Number(item) <= 65535;
const PORT = { describe: 'port (1-65535)', valid: isPort } as const;

export const importAllowedSchemes = {
  key: 'importAllowedSchemes',
  env: 'IMPORT_ALLOWED_SCHEMES',
  kind: 'list',
  // DEFAULT_URI_FILTER's (shared/import/uri-filter.ts), as the tests check.
  default: ['http', 'https'],
} as const satisfies ListSetting;

export const importDisallowedSchemes = {
  key: 'importDisallowedSchemes',
  env: 'IMPORT_DISALLOWED_SCHEMES',
  kind: 'list',
  default: [],
} as const satisfies ListSetting;

export const importAllowedHosts = {
  key: 'importAllowedHosts',
  env: 'IMPORT_ALLOWED_HOSTS',
  kind: 'list',
  default: [],
} as const satisfies ListSetting;

export const importDisallowedHosts = {
  key: 'importDisallowedHosts',
  env: 'IMPORT_DISALLOWED_HOSTS',
  kind: 'list',
  default: [],
} as const satisfies ListSetting;

export const importAllowedPorts = {
  key: 'importAllowedPorts',
  env: 'IMPORT_ALLOWED_PORTS',
  kind: 'list',
  default: ['80', '443'],
  item: PORT,
} as const satisfies ListSetting;

export const importDisallowedPorts = {
  key: 'importDisallowedPorts',
  env: 'IMPORT_DISALLOWED_PORTS',
  kind: 'list',
  default: [],
  item: PORT,
} as const satisfies ListSetting;

/** CIDRs exempt from the public-address rule of web-download. */
export const importAllowedNetworks = {
  key: 'importAllowedNetworks',
  env: 'IMPORT_ALLOWED_NETWORKS',
  kind: 'list',
  default: [],
  item: { describe: 'CIDR (10.0.0.0/8, fd00::/8)', valid: (item: string) => parseCidr(item) !== undefined },
} as const satisfies ListSetting;

// Identity (mode, Keystone or JWT settings) is read by infra/identity.ts (docs/identity.md).

// ---------------------------------------------------------------------------------------------
// Observability (docs/operations.md)

/** Powertools log level of every function. */
export const logLevel = {
  key: 'logLevel',
  env: 'POWERTOOLS_LOG_LEVEL',
  kind: 'choice',
  default: 'INFO',
  choices: ['DEBUG', 'INFO', 'WARN', 'ERROR'],
} as const satisfies ChoiceSetting;

/** CloudWatch namespace of the service's metrics. */
export const metricsNamespace = {
  key: 'metricsNamespace',
  env: 'POWERTOOLS_METRICS_NAMESPACE',
  kind: 'text',
  default: 'ServerlessGlance',
} as const satisfies TextSetting;

/** Days the functions', the state machine's and the API's logs are kept (a CloudWatch retention). */
export const logRetentionDays = {
  key: 'logRetentionDays',
  kind: 'choice',
  default: '30',
  choices: [
    '1',
    '3',
    '5',
    '7',
    '14',
    '30',
    '60',
    '90',
    '120',
    '150',
    '180',
    '365',
    '400',
    '545',
    '731',
    '1096',
  ],
} as const satisfies ChoiceSetting;

/** An address subscribed to the alarms' topic; empty: no subscription (alarms still show on the dashboard). */
export const alarmEmail = { key: 'alarmEmail', kind: 'text', default: '' } as const satisfies TextSetting;

// ---------------------------------------------------------------------------------------------
// Capacity (docs/deploying.md#capacity)

/** Requests per second the API stage lets through on each route (steady rate); not a cap on all routes together. */
export const apiThrottleRate = {
  key: 'apiThrottleRate',
  kind: 'integer',
  default: 50,
  min: 1,
  max: 10_000,
} as const satisfies IntegerSetting;

/** Requests the API stage lets through on each route in a burst above the rate. */
export const apiThrottleBurst = {
  key: 'apiThrottleBurst',
  kind: 'integer',
  default: 100,
  min: 1,
  max: 5_000,
} as const satisfies IntegerSetting;

/**
 * Memory per function, in MB, by function name (a route name, `Finalise`, `Sweeper`, `Publisher`,
 * an import state, `ExecutionEnded`...); unnamed functions keep the code's default. Above 3008 MB
 * needs an account whose Lambda memory quota allows it.
 */
export const memoryMb = {
  key: 'memoryMb',
  kind: 'perFunction',
  default: {},
  min: 128,
  max: 10_240,
} as const satisfies PerFunctionSetting;

/** Timeout per function, in seconds, by function name; API functions at most 29 (API Gateway waits 30). */
export const timeoutSeconds = {
  key: 'timeoutSeconds',
  kind: 'perFunction',
  default: {},
  min: 1,
  max: 900,
} as const satisfies PerFunctionSetting;

/**
 * Reserved concurrency per function, by function name; none by default. AWS refuses reservations
 * that leave fewer than 100 unreserved executions in the account.
 */
export const reservedConcurrency = {
  key: 'reservedConcurrency',
  kind: 'perFunction',
  default: {},
  min: 1,
  max: 10_000,
} as const satisfies PerFunctionSetting;

/** The account's Lambda concurrency limit, to check reservations against at synth. */
export const accountConcurrency = {
  key: 'accountConcurrency',
  kind: 'integer',
  default: 1000,
  min: 10,
  max: 1_000_000,
} as const satisfies IntegerSetting;

/** How often the sweeper runs. */
export const sweepEveryMinutes = {
  key: 'sweepEveryMinutes',
  kind: 'integer',
  default: 5,
  min: 1,
  max: 60,
} as const satisfies IntegerSetting;

/** Days after which staged data (`staging/`) expires: orphans, and staged data never imported. */
export const stagingExpirationDays = {
  key: 'stagingExpirationDays',
  kind: 'integer',
  default: 30,
  min: 1,
  max: 3650,
} as const satisfies IntegerSetting;

// ---------------------------------------------------------------------------------------------
// The registry

/** Every setting by key; the infrastructure reads all of them, the tests check the docs name each. */
export const SETTINGS = {
  verifyBytesPerSecond,
  imageSizeCap,
  delayedDelete,
  scrubTimeSeconds,
  taskTimeToLiveHours,
  imageMemberQuota,
  'quota:image_size_total': quotaImageSizeTotal,
  'quota:image_stage_total': quotaImageStageTotal,
  'quota:image_count_total': quotaImageCountTotal,
  'quota:image_count_uploading': quotaImageCountUploading,
  locationS3Allowed,
  showMultipleLocations,
  imageFormatRequireMatch,
  imageFormatVmdkAllowedTypes,
  imageFormatGptNonfatalChecks,
  uploadUrlSeconds,
  uploadGraceSeconds,
  multipartGraceSeconds,
  multipartThresholdBytes,
  multipartPartSizeBytes,
  presignMaxPartUrls,
  downloadUrlSeconds,
  sweepRefinaliseAfterSeconds,
  importAllowedSchemes,
  importDisallowedSchemes,
  importAllowedHosts,
  importDisallowedHosts,
  importAllowedPorts,
  importDisallowedPorts,
  importAllowedNetworks,
  logLevel,
  metricsNamespace,
  logRetentionDays,
  alarmEmail,
  apiThrottleRate,
  apiThrottleBurst,
  memoryMb,
  timeoutSeconds,
  reservedConcurrency,
  accountConcurrency,
  sweepEveryMinutes,
  stagingExpirationDays,
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type Settings = { readonly [K in SettingKey]: SettingValue<(typeof SETTINGS)[K]> };

// ---------------------------------------------------------------------------------------------
// Parsing: one set of rules for CDK context (JSON values, or strings from `-c`) and environment
// variables (strings)

/**
 * Host names reserved for documentation (RFC 2606, RFC 6761): a value still naming one is a
 * placeholder nobody replaced, and an identity provider there would refuse every token.
 */
export const isPlaceholderHost = (host: string): boolean =>
  /(^|\.)example\.(com|net|org)$/i.test(host) || /\.(example|invalid)$/i.test(host);

const describe = (raw: unknown): string => (typeof raw === 'string' ? `"${raw}"` : JSON.stringify(raw));

const integerOf = (raw: unknown): number | undefined => {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : undefined;
  if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) {
    const value = Number(raw);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  return undefined;
};

const parseInteger = (setting: IntegerSetting, raw: unknown, deploy: boolean): number => {
  const value = integerOf(raw);
  const min = deploy ? (setting.deployMin ?? setting.min) : setting.min;
  if (value === undefined || value < min || value > setting.max) {
    throw new SettingError(`must be an integer from ${min} to ${setting.max}, not ${describe(raw)}`);
  }
  return value;
};

const parseBoolean = (raw: unknown): boolean => {
  if (raw === true || raw === false) return raw;
  if (typeof raw === 'string' && /^(true|false)$/i.test(raw.trim()))
    return raw.trim().toLowerCase() === 'true';
  throw new SettingError(`must be true or false, not ${describe(raw)}`);
};

const parseList = (setting: ListSetting, raw: unknown): string[] => {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'string') items = raw.split(',');
  else throw new SettingError(`must be a list (an array, or comma-separated text), not ${describe(raw)}`);
  const list = items.map((item) => {
    if (typeof item !== 'string' && typeof item !== 'number') {
      throw new SettingError(`must list text values, not ${describe(item)}`);
    }
    const text = String(item).trim();
    return setting.keepCase ? text : text.toLowerCase();
  });
  const values = list.filter(Boolean);
  const wrong = setting.item ? values.find((item) => !setting.item?.valid(item)) : undefined;
  if (wrong !== undefined)
    throw new SettingError(`must list only ${setting.item?.describe} items, not "${wrong}"`);
  return values;
};

const parseChoice = (setting: ChoiceSetting, raw: unknown): string => {
  const value = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : undefined;
  const found = setting.choices.find((choice) => choice.toLowerCase() === value?.toLowerCase());
  if (found === undefined) {
    throw new SettingError(`must be one of ${setting.choices.join(', ')}, not ${describe(raw)}`);
  }
  return found;
};

/** A value left as the example file ships it: `<...>`, or `REPLACE...` / `CHANGE...`. */
const isPlaceholderText = (value: string): boolean =>
  /^<.*>$/.test(value) || /^(replace|change)[-_ ]?me\b|^replace[-_ ]with\b/i.test(value);

const parseText = (setting: TextSetting, raw: unknown): string => {
  if (typeof raw !== 'string') throw new SettingError(`must be text, not ${describe(raw)}`);
  const value = raw.trim();
  if (setting.default === undefined && isPlaceholderText(value)) {
    throw new SettingError(`is still the placeholder "${value}"`);
  }
  if (!setting.url) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingError(`must be an http(s) URL, not "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SettingError(`must be an http(s) URL, not "${value}"`);
  }
  if (isPlaceholderHost(url.hostname)) throw new SettingError(`is still the placeholder "${value}"`);
  return value;
};

const parsePerFunction = (setting: PerFunctionSetting, raw: unknown): Record<string, number> => {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SettingError(`must be an object of function names to numbers, not ${describe(raw)}`);
  }
  return Object.fromEntries(
    Object.entries(value).map(([name, item]) => {
      const number = integerOf(item);
      if (number === undefined || number < setting.min || number > setting.max) {
        throw new SettingError(
          `must give ${name} an integer from ${setting.min} to ${setting.max}, not ${describe(item)}`,
        );
      }
      return [name, number];
    }),
  );
};

/**
 * The value of a setting from what was given (`undefined`: not given). `deploy`: checked as the
 * stack checks it, with the bounds AWS enforces.
 */
export function parseSetting<S extends Setting>(setting: S, raw: unknown, deploy?: boolean): SettingValue<S>;
export function parseSetting(setting: Setting, raw: unknown, deploy = false): unknown {
  switch (setting.kind) {
    case 'integer':
      return integerSetting(setting, raw, deploy);
    case 'boolean':
      return booleanSetting(setting, raw);
    case 'list':
      return listSetting(setting, raw);
    case 'choice':
      return unset(raw) ? setting.default : parseChoice(setting, raw);
    case 'text': {
      if (raw === undefined && setting.default === undefined) throw new SettingError('must be set');
      const value = raw === undefined ? (setting.default as string) : parseText(setting, raw);
      if (value === '' && setting.default === undefined) throw new SettingError('must not be empty');
      return value;
    }
    case 'limit':
      return limitSetting(setting, raw);
    case 'perFunction':
      return unset(raw) ? setting.default : parsePerFunction(setting, raw);
  }
}

// One reader per kind, so a function bundle carries only the parsers its settings need
// (shared/config.ts reads with these).

const unset = (raw: unknown) => raw === undefined || raw === '';

/** An integer setting's value; unset or empty gives the default. */
export const integerSetting = (setting: IntegerSetting, raw: unknown, deploy = false): number =>
  unset(raw) ? setting.default : parseInteger(setting, raw, deploy);

/** A boolean setting's value; unset or empty gives the default. */
export const booleanSetting = (setting: BooleanSetting, raw: unknown): boolean =>
  unset(raw) ? setting.default : parseBoolean(raw);

/**
 * A list setting's value; unset (or `null` where the default is `null`) gives the default, empty
 * text an empty list (no restriction).
 */
export function listSetting<S extends ListSetting>(setting: S, raw: unknown): SettingValue<S>;
export function listSetting(setting: ListSetting, raw: unknown): string[] | null {
  if (raw === undefined || (raw === null && setting.default === null)) {
    return setting.default === null ? null : [...setting.default];
  }
  return parseList(setting, raw);
}

/** A quota limit's value: unset, empty or `null` is unlimited (`null`). */
export const limitSetting = (setting: LimitSetting, raw: unknown): number | null => {
  if (raw === null || unset(typeof raw === 'string' ? raw.trim() : raw)) return null;
  const value = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > setting.max) {
    throw new SettingError(
      `must be a non-negative integer (${setting.unit}) up to ${setting.max}, or unset for unlimited, not ${describe(raw)}`,
    );
  }
  return value;
};

/** How a value travels in its environment variable (parseSetting reads it back). */
export const settingToEnv = (
  value: string | number | boolean | readonly string[] | Readonly<Record<string, number>>,
): string => {
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
};
