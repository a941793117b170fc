/**
 * `GET /v2/images` query handling (spec §3.9), pure: parse and validate the query string into a
 * typed `ListImagesQuery` (every malformed parameter is a 400 before any read), then the three
 * pieces a list handler composes over candidate records:
 *
 * - `matchesFilters(image, query)`: the query's filters (Glance's SQL conditions);
 * - `inListScope(image, query, caller, membership)`: which images the caller's list may contain
 *   (spec §5.2: owner, public/community, accepted members, the `visibility` filter rules);
 * - `compareImages(a, b, sort)`: the sort order, total thanks to the `created_at`/`id`
 *   tie-breakers, so "after the marker" is well defined;
 *
 * and `pageLinks` / `nextQuery` / `firstQuery` for the `first`/`next` links.
 *
 * Parameter semantics follow Glance's request deserializer, controller and SQL layer
 * (`glance/api/v2/images.py`, `glance/db/sqlalchemy/api.py`, `glance/common/utils.py`).
 */
import { BadRequest } from '#shared/errors';
import { IMAGE_STATUSES, isGone } from '#shared/status-rules';
import type { ImageRecord } from './model.ts';

/** Sort keys Glance accepts (`_available_sort_keys`). */
export const SORT_KEYS = [
  'name',
  'status',
  'container_format',
  'disk_format',
  'size',
  'id',
  'created_at',
  'updated_at',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';
export interface SortSpec {
  readonly key: SortKey;
  readonly dir: SortDir;
}

export const MEMBER_STATUS_FILTERS = ['pending', 'accepted', 'rejected', 'all'] as const;
export type MemberStatusFilter = (typeof MEMBER_STATUS_FILTERS)[number];
export type MemberStatus = Exclude<MemberStatusFilter, 'all'>;

export const VISIBILITY_FILTERS = ['public', 'private', 'shared', 'community', 'all'] as const;
export type VisibilityFilter = (typeof VISIBILITY_FILTERS)[number];

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
type MatchFilterKey = (typeof MATCH_FILTER_KEYS)[number];
const TEXT_FILTER_KEYS = ['owner', 'checksum', 'os_hash_value', 'os_hash_algo'] as const;
type TextFilterKey = (typeof TEXT_FILTER_KEYS)[number];
const INTEGER_FILTER_KEYS = ['min_ram', 'min_disk', 'size', 'virtual_size'] as const;
type IntegerFilterKey = (typeof INTEGER_FILTER_KEYS)[number];
const TIME_FILTER_KEYS = ['created_at', 'updated_at'] as const;
type TimeFilterKey = (typeof TIME_FILTER_KEYS)[number];

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

export interface ListImagesQuery {
  /** Page size: default 25, capped at 1000; 0 is allowed (an empty page). */
  readonly limit: number;
  /** UUID-shaped id of the last image of the previous page; the handler checks it exists (400). */
  readonly marker?: string;
  /** Requested order with `created_at` and `id` appended when missing. */
  readonly sort: readonly SortSpec[];
  readonly memberStatus: MemberStatusFilter;
  /** Explicit `visibility` filter; absent means Glance's default scope (see `inListScope`). */
  readonly visibility?: VisibilityFilter;
  readonly filters: ListImagesFilters;
}

export interface ListQueryOptions {
  /** `limit_param_default` (25). */
  readonly defaultLimit?: number;
  /** `api_limit_max` (1000). */
  readonly maxLimit?: number;
}

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;
const DEFAULT_SORT_KEY: SortKey = 'created_at';
const DEFAULT_SORT_DIR: SortDir = 'desc';
const TIE_BREAKERS: readonly SortKey[] = ['created_at', 'id'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGER = /^[+-]?\d+$/;

const includes = <T extends string>(list: readonly T[], value: string): value is T =>
  (list as readonly string[]).includes(value);

/** Python's `int()` on a query value: surrounding blanks allowed, optional sign, digits only. */
const parseInteger = (raw: string): number | undefined => {
  const text = raw.trim();
  return INTEGER.test(text) ? Number(text) + 0 : undefined; // + 0 turns -0 into 0
};

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
// The grammar of the `iso8601` library behind Glance's `parse_isotime`: year alone, year-month,
// date, then optional time (`T` or space), optional minutes, seconds, fraction and zone.
const ISO_8601 =
  /^(\d{4})(?:(?:-(\d{1,2})|(\d{2})(?!$))(?:(?:-(\d{1,2})|(\d{2}))(?:[ T](\d{2})(?::?(\d{2}))?(?::?(\d{1,2})(?:[.,](\d+))?)?(Z|([-+])(\d{2}):?(\d{2})?)?)?)?)?$/;

/**
 * Parses an ISO 8601 timestamp as Glance does (no zone means UTC) into epoch milliseconds, or
 * undefined when it is not one (bad syntax or an impossible date/time).
 */
export const parseIsoTime = (text: string): number | undefined => {
  const m = ISO_8601.exec(text);
  if (!m) return undefined;
  const num = (value: string | undefined, fallback: number): number =>
    value === undefined ? fallback : Number(value);
  const year = num(m[1], 0);
  const month = num(m[2] ?? m[3], 1);
  const day = num(m[4] ?? m[5], 1);
  const hour = num(m[6], 0);
  const minute = num(m[7], 0);
  const second = num(m[8], 0);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > monthDays) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = m[9] === undefined ? 0 : Math.floor(Number(`0.${m[9]}`) * 1000);
  let offset = 0;
  if (m[11] !== undefined) {
    const tzHour = num(m[12], 0);
    const tzMinute = num(m[13], 0);
    if (tzHour > 23 || tzMinute > 59) return undefined;
    offset = (m[11] === '-' ? -1 : 1) * (tzHour * 60 + tzMinute);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  return utc.getTime() - offset * 60_000;
};

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

const parseMatchFilter = (name: MatchFilterKey, raw: string): MatchFilter => {
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

const parseTimeFilter = (name: TimeFilterKey, raw: string): TimeFilter => {
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

const parseBoolean = (name: string, raw: string): boolean => {
  if (raw !== 'true' && raw !== 'false') {
    throw new BadRequest(`Invalid value '${raw}' for '${name}' filter. Valid values are 'true' or 'false'.`);
  }
  return raw === 'true';
};

const parseSortKey = (raw: string): SortKey => {
  const key = raw.trim();
  if (!includes(SORT_KEYS, key)) {
    throw new BadRequest(
      `Invalid sort key: ${key}. It must be one of the following: ${SORT_KEYS.join(', ')}.`,
    );
  }
  return key;
};

const parseSortDir = (raw: string): SortDir => {
  const dir = raw.trim();
  if (dir !== 'asc' && dir !== 'desc') throw new BadRequest(`Invalid sort direction: ${dir}`);
  return dir;
};

/**
 * Sorting, both syntaxes (Glance's `_get_sorting_params` and `_image_get_all`): `sort=k:d,...`
 * (missing direction = desc) or repeated `sort_key`/`sort_dir` (one direction applies to every
 * key, several must match the keys in number). The tie-breakers `created_at` then `id` are
 * appended when absent, in the single direction given, else `desc`.
 */
const parseSort = (params: URLSearchParams): SortSpec[] => {
  const keys: SortKey[] = [];
  const dirs: SortDir[] = [];
  const sort = params.getAll('sort');
  if (sort.length > 0) {
    if (params.has('sort_key') || params.has('sort_dir')) {
      throw new BadRequest('Old and new sorting syntax cannot be combined');
    }
    for (const item of sort.flatMap((value) => value.trim().split(','))) {
      const colon = item.indexOf(':');
      keys.push(parseSortKey(colon < 0 ? item : item.slice(0, colon)));
      const dir = colon < 0 ? '' : item.slice(colon + 1);
      dirs.push(dir === '' ? DEFAULT_SORT_DIR : parseSortDir(dir));
    }
  } else {
    keys.push(...params.getAll('sort_key').map(parseSortKey));
    dirs.push(...params.getAll('sort_dir').map(parseSortDir));
    if (dirs.length > 1 && dirs.length !== keys.length) {
      throw new BadRequest('Number of sort dirs does not match the number of sort keys');
    }
  }
  if (keys.length === 0) keys.push(DEFAULT_SORT_KEY);
  const single = dirs.length <= 1;
  const fallback = dirs.length === 1 ? (dirs[0] as SortDir) : DEFAULT_SORT_DIR;
  const spec: SortSpec[] = keys.map((key, i) => ({ key, dir: single ? fallback : (dirs[i] as SortDir) }));
  for (const key of TIE_BREAKERS) {
    if (!keys.includes(key)) spec.push({ key, dir: fallback });
  }
  return spec;
};

/** Parameters that are not filters. */
const CONTROL_KEYS = new Set(['limit', 'marker', 'member_status', 'tag', 'sort', 'sort_key', 'sort_dir']);

/**
 * Parses `GET /v2/images` parameters (spec §3.9). Pass the raw query string (API Gateway's
 * `rawQueryString`; its `queryStringParameters` joins repeated keys with commas and would corrupt
 * `tag` and `in:` lists) or a URLSearchParams.
 *
 * Repeated single-valued parameters: `limit`, `marker`, `member_status` take the first occurrence
 * (Glance pops them), filters the last (Glance reads them as a dict). `tag` accumulates; repeated
 * `sort` values are concatenated. Any other key is an equality filter on an additional property;
 * `deleted` is ignored (Glance overrides it).
 *
 * @throws BadRequest for every malformed value listed in spec §3.9.
 */
export const parseListImagesQuery = (
  query: URLSearchParams | string,
  options: ListQueryOptions = {},
): ListImagesQuery => {
  const params = typeof query === 'string' ? new URLSearchParams(query) : query;
  const first = (key: string): string | undefined => params.get(key) ?? undefined;
  const last = (key: string): string | undefined => params.getAll(key).at(-1);

  const visibility = last('visibility');
  if (visibility !== undefined && !includes(VISIBILITY_FILTERS, visibility)) {
    throw new BadRequest(
      `Invalid visibility value: ${visibility}. It must be one of: ${VISIBILITY_FILTERS.join(', ')}.`,
    );
  }
  if (params.has('changes-since')) {
    throw new BadRequest('The "changes-since" filter is no longer available on v2.');
  }
  const memberStatus = first('member_status') ?? 'accepted';
  if (!includes(MEMBER_STATUS_FILTERS, memberStatus)) {
    throw new BadRequest(
      `Invalid status: ${memberStatus}. It must be one of: ${MEMBER_STATUS_FILTERS.join(', ')}.`,
    );
  }

  const maxLimit = options.maxLimit ?? MAX_LIMIT;
  let limit = options.defaultLimit ?? DEFAULT_LIMIT;
  const rawLimit = first('limit');
  if (rawLimit !== undefined) {
    const parsed = parseInteger(rawLimit);
    if (parsed === undefined) throw new BadRequest('limit param must be an integer');
    if (parsed < 0) throw new BadRequest('limit param must be positive');
    limit = parsed;
  }
  limit = Math.min(limit, maxLimit);

  const sort = parseSort(params);

  const marker = first('marker');
  if (marker !== undefined && !UUID.test(marker)) {
    throw new BadRequest(`Invalid marker format: '${marker}' is not an image id.`);
  }

  const rawHidden = last('os_hidden');
  // Glance lower-cases `os_hidden` (so `True` works) but not `protected`.
  const os_hidden = rawHidden === undefined ? false : parseBoolean('os_hidden', rawHidden.toLowerCase());
  const rawProtected = last('protected');

  const filters: Record<string, unknown> = { tags: params.getAll('tag').map((tag) => tag.trim()), os_hidden };
  if (rawProtected !== undefined) filters.protected = parseBoolean('protected', rawProtected);
  // Built with fromEntries at the end, so a parameter named `__proto__` stays an ordinary filter.
  const properties: [string, string][] = [];

  for (const key of new Set(params.keys())) {
    if (CONTROL_KEYS.has(key) || key === 'visibility' || key === 'os_hidden' || key === 'protected') continue;
    if (key === 'deleted') continue;
    const value = last(key) as string;
    if (includes(MATCH_FILTER_KEYS, key)) filters[key] = parseMatchFilter(key, value);
    else if (includes(TIME_FILTER_KEYS, key)) filters[key] = parseTimeFilter(key, value);
    else if (includes(TEXT_FILTER_KEYS, key)) filters[key] = value;
    else if (includes(INTEGER_FILTER_KEYS, key)) {
      const parsed = parseInteger(value);
      if (parsed === undefined)
        throw new BadRequest(`Invalid value '${value}' for '${key}' filter: it must be an integer.`);
      filters[key] = parsed;
    } else if (key === 'size_min' || key === 'size_max') {
      const parsed = parseInteger(value);
      if (parsed === undefined || parsed < 0) {
        throw new BadRequest(
          `Unable to filter on a range with a non-numeric value: '${key}' must be a non-negative integer, got '${value}'.`,
        );
      }
      filters[key] = parsed;
    } else properties.push([key, value]);
  }
  filters.properties = Object.fromEntries(properties);

  return {
    limit,
    ...(marker === undefined ? {} : { marker }),
    sort,
    memberStatus,
    ...(visibility === undefined ? {} : { visibility }),
    filters: filters as unknown as ListImagesFilters,
  };
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
export const matchesFilters = (image: ImageRecord, query: ListImagesQuery): boolean => {
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

/** Who is listing: the project the token is scoped to, and whether it is an admin. */
export interface ListCaller {
  readonly projectId: string;
  readonly isAdmin: boolean;
}

/**
 * Whether the image belongs in this caller's list, before filters (Glance's `_select_images_query`
 * plus its visibility rules, spec §5.2). `membership` is the caller project's member status on
 * this image, or null/undefined when it is not a member.
 *
 * - Non-admins see public and community images, their own, and `shared` images they are a member
 *   of with the requested `member_status` (default accepted; `all` = any). Admins see everything.
 * - With a `visibility` filter only that visibility is kept (`all` keeps everything in scope);
 *   without one, community images are left out unless the caller's project owns them.
 *
 * The per-image `get_image` policy check still applies afterwards.
 */
export const inListScope = (
  image: Pick<ImageRecord, 'owner' | 'visibility'>,
  query: Pick<ListImagesQuery, 'visibility' | 'memberStatus'>,
  caller: ListCaller,
  membership?: MemberStatus | null,
): boolean => {
  const owned = image.owner !== null && image.owner === caller.projectId;
  if (!caller.isAdmin) {
    const member =
      image.visibility === 'shared' &&
      membership != null &&
      (query.memberStatus === 'all' || membership === query.memberStatus);
    if (!(image.visibility === 'public' || image.visibility === 'community' || owned || member)) return false;
  }
  if (query.visibility !== undefined)
    return query.visibility === 'all' || image.visibility === query.visibility;
  return image.visibility !== 'community' || owned;
};

type SortValue = string | number | null;

const sortValue = (image: ImageRecord, key: SortKey): SortValue => {
  if (key === 'created_at' || key === 'updated_at') {
    const ms = Date.parse(image[key]);
    return Number.isNaN(ms) ? image[key] : ms;
  }
  return image[key];
};

/** NULL sorts before everything (MySQL); text compares case-insensitively (MySQL's default collation). */
const compareValues = (a: SortValue, b: SortValue, exact: boolean): number => {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : 1;
  const x = exact ? String(a) : String(a).toLowerCase();
  const y = exact ? String(b) : String(b).toLowerCase();
  return x === y ? 0 : x < y ? -1 : 1;
};

/**
 * Orders two images by `sort` (usually `query.sort`), like Glance's SQL `ORDER BY` on MySQL:
 * NULLs first ascending and last descending, text case-insensitive, timestamps by instant (with
 * milliseconds: our records are finer than Glance's whole seconds). `id` compares exactly, and
 * if `sort` has no `id` entry ties are finally broken by id ascending, so this is a total order on
 * distinct ids and pagination by marker is stable.
 */
export const compareImages = (a: ImageRecord, b: ImageRecord, sort: readonly SortSpec[]): number => {
  for (const { key, dir } of sort) {
    const order = compareValues(sortValue(a, key), sortValue(b, key), key === 'id');
    if (order !== 0) return dir === 'desc' ? -order : order;
  }
  return sort.some((spec) => spec.key === 'id') ? 0 : compareValues(a.id, b.id, true);
};

/** Python's `urlencode` quoting (`quote_plus`): unreserved `A-Za-z0-9_.-~` kept, spaces as `+`. */
const formEncode = (text: string): string =>
  encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');

const encodePairs = (pairs: readonly (readonly [string, string])[]): string =>
  pairs.map(([key, value]) => `${formEncode(key)}=${formEncode(value)}`).join('&');

const withoutMarker = (query: URLSearchParams | string): [string, string][] =>
  [...(typeof query === 'string' ? new URLSearchParams(query) : query)].filter(([key]) => key !== 'marker');

/**
 * The original query without `marker`, re-encoded ('' when nothing is left): the query of the
 * `first` link. Unlike Glance, repeated keys (`tag`, `sort_key`) are all kept, so later pages keep
 * every filter.
 */
export const firstQuery = (query: URLSearchParams | string): string => encodePairs(withoutMarker(query));

/** The original query with `marker=<lastId>` (replacing any marker, appended last): the `next` link query. */
export const nextQuery = (query: URLSearchParams | string, lastId: string): string =>
  encodePairs([...withoutMarker(query), ['marker', lastId]]);

/**
 * The `first` and `next` links of a list body (spec §3.9): `first` is `path` plus the query
 * without marker; `next` is present only when `lastId` is given, which the handler does whenever
 * the underlying page was full (`limit` rows before per-image policy filtering).
 */
export const pageLinks = (
  path: string,
  query: URLSearchParams | string,
  lastId?: string,
): { first: string; next?: string } => {
  const firstQs = firstQuery(query);
  const first = firstQs === '' ? path : `${path}?${firstQs}`;
  return lastId === undefined ? { first } : { first, next: `${path}?${nextQuery(query, lastId)}` };
};
