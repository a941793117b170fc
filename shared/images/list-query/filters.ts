/**
 * The filters of `GET /v2/images` (docs/api.md#listing-images): their types, how each value is parsed (Glance's
 * `split_filter_op`, quoting and `in:` lists, ISO 8601 times) and `matchesFilters`, which applies
 * them to a record the way Glance's SQL conditions do. Pure.
 */
import { BadRequest } from '#shared/errors';
import type { ImageRecord } from '#shared/images/model';
import { IMAGE_STATUSES, isGone } from '#shared/status-rules';
import { parseIsoTime } from './iso-time.ts';
import type { VisibilityFilter } from './scope.ts';

/** Whether `value` is one of `list` (a type guard for the parameter vocabularies). */
export const includes = <T extends string>(list: readonly T[], value: string): value is T =>
  (list as readonly string[]).includes(value);

/** `name`, `status`, `id`, `container_format`, `disk_format`: equality or `in:` list. */
export type MatchFilter =
  | { readonly op: 'eq'; readonly value: string }
  | { readonly op: 'in'; readonly values: readonly string[] };

export const TIME_OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
export type TimeOperator = (typeof TIME_OPERATORS)[number];
/** `created_at` / `updated_at` comparison; `at` is epoch milliseconds (UTC). */
export interface TimeFilter {
  readonly op: TimeOperator;
  readonly at: number;
}

export const MATCH_FILTER_KEYS = ['name', 'status', 'id', 'container_format', 'disk_format'] as const;
export type MatchFilterKey = (typeof MATCH_FILTER_KEYS)[number];
export const TEXT_FILTER_KEYS = ['owner', 'checksum', 'os_hash_value', 'os_hash_algo'] as const;
export type TextFilterKey = (typeof TEXT_FILTER_KEYS)[number];
export const INTEGER_FILTER_KEYS = ['min_ram', 'min_disk', 'size', 'virtual_size'] as const;
export type IntegerFilterKey = (typeof INTEGER_FILTER_KEYS)[number];
export const TIME_FILTER_KEYS = ['created_at', 'updated_at'] as const;
export type TimeFilterKey = (typeof TIME_FILTER_KEYS)[number];

export interface ListImagesFilters {
  readonly name?: MatchFilter;
  readonly status?: MatchFilter;
  readonly id?: MatchFilter;
  readonly container_format?: MatchFilter;
  readonly disk_format?: MatchFilter;
  readonly owner?: string;
  readonly checksum?: string;
  readonly os_hash_value?: string;
  readonly os_hash_algo?: string;
  readonly min_ram?: number;
  readonly min_disk?: number;
  readonly size?: number;
  readonly virtual_size?: number;
  /** Inclusive byte bounds (`size_min`, `size_max`); images without a size never match. */
  readonly size_min?: number;
  readonly size_max?: number;
  readonly created_at?: TimeFilter;
  readonly updated_at?: TimeFilter;
  /** The image must carry every one of these tags. */
  readonly tags: readonly string[];
  /** Equality, default false: hidden images are left out unless `os_hidden=true` asks for them only. */
  readonly os_hidden: boolean;
  readonly protected?: boolean;
  /** Equality on additional properties (any unrecognised parameter). */
  readonly properties: Readonly<Record<string, string>>;
}

/**
 * Glance's `split_filter_op`: `op:value`, except that a whole value that is itself an ISO 8601
 * timestamp (it contains colons) or has no colon means `eq`.
 */
const splitOperator = (expression: string): { op: string; value: string } => {
  const colon = expression.indexOf(':');
  if (colon < 0 || parseIsoTime(expression) !== undefined) return { op: 'eq', value: expression };
  return { op: expression.slice(0, colon), value: expression.slice(colon + 1) };
};

/** Glance's `validate_quotes`: quotes must open after a comma (or at the start) and close before one. */
const validateQuotes = (name: string, value: string): void => {
  let open = false;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '"' || (i > 0 && value[i - 1] === '\\')) continue;
    if (!open && i > 0 && value[i - 1] !== ',') {
      throw new BadRequest(
        `Invalid '${name}' filter value ${value}. There is no comma before opening quotation mark.`,
      );
    }
    if (open && i + 1 !== value.length && value[i + 1] !== ',') {
      throw new BadRequest(
        `Invalid '${name}' filter value ${value}. There is no comma after closing quotation mark.`,
      );
    }
    open = !open;
  }
  if (open) throw new BadRequest(`Invalid '${name}' filter value ${value}. The quote is not closed.`);
};

const IN_LIST_ITEM = /"([^"\\]*(?:\\.[^"\\]*)*)",?|([^,]+),?|,/g;

/**
 * Glance's `split_filter_value_for_quotes`: comma-separated values, `"..."` protecting commas. The
 * quotes are removed; backslash escapes inside quotes are kept verbatim, as Glance keeps them.
 */
export const splitInList = (name: string, value: string): string[] => {
  validateQuotes(name, value);
  return Array.from(value.matchAll(IN_LIST_ITEM), (m) => m[1] || m[2] || '');
};

export const parseMatchFilter = (name: MatchFilterKey, raw: string): MatchFilter => {
  const { op, value } = splitOperator(raw);
  let filter: MatchFilter;
  if (op === 'in') filter = { op: 'in', values: splitInList(name, value) };
  else if (op === 'eq') filter = { op: 'eq', value };
  else {
    throw new BadRequest(
      `Unable to filter '${name}' by unknown operator '${op}'. Use a value, 'eq:<value>' or 'in:<v1>,<v2>'.`,
    );
  }
  if (name === 'status') {
    for (const status of filter.op === 'eq' ? [filter.value] : filter.values) {
      if (!includes(IMAGE_STATUSES, status)) {
        throw new BadRequest(
          `Invalid status value: ${status}. It must be one of: ${IMAGE_STATUSES.join(', ')}.`,
        );
      }
    }
  }
  return filter;
};

export const parseTimeFilter = (name: TimeFilterKey, raw: string): TimeFilter => {
  const { op, value } = splitOperator(raw);
  const at = parseIsoTime(value);
  if (at === undefined) {
    throw new BadRequest(`Bad "${name}" query filter format. Use ISO 8601 DateTime notation.`);
  }
  if (!includes(TIME_OPERATORS, op)) {
    throw new BadRequest(
      `Unable to filter '${name}' on unknown operator '${op}'. Use one of: ${TIME_OPERATORS.join(', ')}.`,
    );
  }
  return { op, at };
};

export const parseBoolean = (name: string, raw: string): boolean => {
  if (raw !== 'true' && raw !== 'false') {
    throw new BadRequest(`Invalid value '${raw}' for '${name}' filter. Valid values are 'true' or 'false'.`);
  }
  return raw === 'true';
};

const matches = (filter: MatchFilter | undefined, value: string | null, fold = false): boolean => {
  if (filter === undefined) return true;
  if (value === null) return false;
  const norm = (text: string) => (fold ? text.toLowerCase() : text);
  return filter.op === 'eq'
    ? norm(filter.value) === norm(value)
    : filter.values.some((v) => norm(v) === norm(value));
};

/** Glance stores timestamps with whole seconds and renders them so; filters compare at that precision. */
const wholeSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000) * 1000;

const compareTime = (filter: TimeFilter | undefined, iso: string): boolean => {
  if (filter === undefined) return true;
  const value = wholeSeconds(iso);
  switch (filter.op) {
    case 'gt':
      return value > filter.at;
    case 'gte':
      return value >= filter.at;
    case 'lt':
      return value < filter.at;
    case 'lte':
      return value <= filter.at;
    case 'eq':
      return value === filter.at;
    case 'neq':
      return value !== filter.at;
  }
};

const equalIfSet = <T>(wanted: T | undefined, actual: T | null): boolean =>
  wanted === undefined || wanted === actual;

/**
 * True when the image satisfies every filter of the query (Glance's SQL conditions). Deleted and
 * `pending_delete` images never match (soft-deleted records); `killed` ones do, since decision D1
 * lists them. `visibility` is applied when it names one visibility; the caller-dependent part
 * (default scope, `all`, membership) is `inListScope`. Image ids compare case-insensitively.
 */
export const matchesFilters = (
  image: ImageRecord,
  query: { readonly visibility?: VisibilityFilter; readonly filters: ListImagesFilters },
): boolean => {
  const f = query.filters;
  if (isGone(image.status)) return false;
  if (query.visibility !== undefined && query.visibility !== 'all' && image.visibility !== query.visibility) {
    return false;
  }
  if (!matches(f.name, image.name) || !matches(f.status, image.status) || !matches(f.id, image.id, true))
    return false;
  if (!matches(f.container_format, image.container_format) || !matches(f.disk_format, image.disk_format)) {
    return false;
  }
  for (const key of TEXT_FILTER_KEYS) if (!equalIfSet(f[key as TextFilterKey], image[key])) return false;
  for (const key of INTEGER_FILTER_KEYS)
    if (!equalIfSet(f[key as IntegerFilterKey], image[key])) return false;
  if (f.size_min !== undefined && (image.size === null || image.size < f.size_min)) return false;
  if (f.size_max !== undefined && (image.size === null || image.size > f.size_max)) return false;
  if (!compareTime(f.created_at, image.created_at) || !compareTime(f.updated_at, image.updated_at))
    return false;
  if (image.os_hidden !== f.os_hidden || !equalIfSet(f.protected, image.protected)) return false;
  if (!f.tags.every((tag) => image.tags.includes(tag))) return false;
  return Object.entries(f.properties).every(
    ([key, value]) => Object.hasOwn(image.properties, key) && image.properties[key] === value,
  );
};
