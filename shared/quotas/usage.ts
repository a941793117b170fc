/**
 * Glance's unified-limit quotas as values (docs/quotas.md): the four names, their units, a usage
 * vector and its arithmetic, limits and their validation, the Glance view of usage. Pure: no AWS,
 * no I/O. Which statuses hold which usage is the status rules' question (`usageHeldBy` in
 * shared/status-rules.ts); reserving it is the ledger's (shared/quotas/ledger.ts).
 */
import { PayloadTooLarge } from '#shared/errors';

export const QUOTA_NAMES = [
  'image_size_total',
  'image_stage_total',
  'image_count_total',
  'image_count_uploading',
] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];

export const isQuotaName = (name: unknown): name is QuotaName =>
  (QUOTA_NAMES as readonly unknown[]).includes(name);

const MiB = 1024 ** 2;

/**
 * Bytes (or images) per unit of a limit: the size quotas are set and shown in MiB, as in Glance,
 * and counted in bytes here, so a reservation is exact to the byte.
 */
export const QUOTA_UNIT: Readonly<Record<QuotaName, number>> = {
  image_size_total: MiB,
  image_stage_total: MiB,
  image_count_total: 1,
  image_count_uploading: 1,
};

/** An amount of every quota: bytes for the two sizes, images for the two counts. */
export type Usage = Readonly<Record<QuotaName, number>>;

export const NO_USAGE: Usage = {
  image_size_total: 0,
  image_stage_total: 0,
  image_count_total: 0,
  image_count_uploading: 0,
};

const combine = (a: Usage, b: Usage, sign: 1 | -1): Usage =>
  Object.fromEntries(QUOTA_NAMES.map((name) => [name, a[name] + sign * b[name]])) as unknown as Usage;

export const addUsage = (a: Usage, b: Usage): Usage => combine(a, b, 1);
export const subtractUsage = (a: Usage, b: Usage): Usage => combine(a, b, -1);
export const negateUsage = (a: Usage): Usage => subtractUsage(NO_USAGE, a);
export const isNoUsage = (a: Usage): boolean => QUOTA_NAMES.every((name) => a[name] === 0);
/** Just the four amounts of a record that carries more. */
export const usageOf = (value: Partial<Usage> | null | undefined): Usage =>
  Object.fromEntries(QUOTA_NAMES.map((name) => [name, Number(value?.[name] ?? 0)])) as unknown as Usage;

/**
 * What an image holds of its owner's quotas, as recorded on the image by the write that last
 * changed it: the amounts, the token of that write's reservation and the projects it touched
 * (docs/quotas.md#reservations).
 */
export interface HeldUsage extends Usage {
  readonly token: string;
  readonly projects: readonly string[];
}

/** A limit in its unit (MiB or images); `null` is unlimited. */
export type Limit = number | null;
export type Limits = Readonly<Record<QuotaName, Limit>>;

export const UNLIMITED: Limits = {
  image_size_total: null,
  image_stage_total: null,
  image_count_total: null,
  image_count_uploading: null,
};

/** Keystone's way of saying "unlimited" in a usage report. */
export const UNLIMITED_REPORT = -1;

/** Largest limit accepted: a size limit in MiB must still be exact in bytes. */
export const MAX_LIMIT = Math.floor(Number.MAX_SAFE_INTEGER / MiB);

export class InvalidQuota extends Error {}

/** The quota name, or `InvalidQuota` naming the valid ones. */
export const parseQuotaName = (name: unknown): QuotaName => {
  if (!isQuotaName(name)) {
    throw new InvalidQuota(`Unknown quota '${String(name)}'; the quotas are ${QUOTA_NAMES.join(', ')}.`);
  }
  return name;
};

/** A limit as written by an operator: a non-negative integer (decimal digits only), else `InvalidQuota`. */
export const parseLimit = (name: QuotaName, text: unknown): number => {
  const value = typeof text === 'string' && /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value > MAX_LIMIT) {
    throw new InvalidQuota(
      `The limit of ${name} must be a non-negative integer${QUOTA_UNIT[name] === MiB ? ' (MiB)' : ''} up to ${MAX_LIMIT}; got '${String(text)}'.`,
    );
  }
  return value;
};

/** The limit in bytes (sizes) or images (counts), or `null` when unlimited. */
export const limitInCounted = (name: QuotaName, limit: Limit): number | null =>
  limit === null ? null : limit * QUOTA_UNIT[name];

/** Usage in the limit's unit, as Glance reports it (sizes in whole MiB, rounded down). */
export const usageInUnits = (name: QuotaName, amount: number): number =>
  Math.floor(amount / QUOTA_UNIT[name]);

/** `GET /v2/info/usage` (Glance's shape): `{usage: {<name>: {limit, usage}}}`, -1 for unlimited. */
export const usageReport = (usage: Usage, limits: Limits) => ({
  usage: Object.fromEntries(
    QUOTA_NAMES.map((name) => [
      name,
      { limit: limits[name] ?? UNLIMITED_REPORT, usage: usageInUnits(name, usage[name]) },
    ]),
  ),
});

const inUnits = (name: QuotaName, amount: number): string => {
  const unit = QUOTA_UNIT[name];
  return unit === 1 ? String(amount) : `${Number((amount / unit).toFixed(2))}`;
};

/**
 * Over a quota: 413, worded as oslo.limit words Glance's `LimitExceeded` ("Project P is over a
 * limit for [Resource R is over limit of L due to current usage U and delta D]"), sizes in MiB,
 * with the exact bytes when they are not whole MiB.
 */
export class QuotaExceeded extends PayloadTooLarge {
  constructor(
    readonly project: string,
    readonly quota: QuotaName,
    /** The limit in its unit. */
    readonly limit: number,
    /** Usage before this request, in bytes or images. */
    readonly usage: number,
    /** What this request needed, in bytes or images. */
    readonly delta: number,
  ) {
    const bytes =
      QUOTA_UNIT[quota] === 1
        ? ''
        : ` (MiB; ${usage} bytes used, ${delta} bytes requested, ${Math.max(0, limit * QUOTA_UNIT[quota] - usage)} bytes left)`;
    super(
      `Project ${project} is over a limit for [Resource ${quota} is over limit of ${limit} due to current usage ` +
        `${inUnits(quota, usage)} and delta ${inUnits(quota, delta)}]${bytes}.`,
    );
  }
}
