/**
 * `GET /v2/images` query parsing (docs/api.md#listing-images), pure: the query string becomes a typed
 * `ListImagesQuery`, and every malformed parameter is a 400 before any read. The pieces a list
 * handler then composes over candidate records are `matchesFilters` (filters.ts), `inListScope`
 * (scope.ts), `compareImages` (sort.ts) and the page links (links.ts).
 *
 * Parameter semantics follow Glance's request deserializer, controller and SQL layer
 * (`glance/api/v2/images.py`, `glance/db/sqlalchemy/api.py`, `glance/common/utils.py`).
 */
import { BadRequest } from '#shared/errors';
import {
  INTEGER_FILTER_KEYS,
  includes,
  type ListImagesFilters,
  MATCH_FILTER_KEYS,
  parseBoolean,
  parseMatchFilter,
  parseTimeFilter,
  TEXT_FILTER_KEYS,
  TIME_FILTER_KEYS,
} from './filters.ts';
import {
  MEMBER_STATUS_FILTERS,
  type MemberStatusFilter,
  VISIBILITY_FILTERS,
  type VisibilityFilter,
} from './scope.ts';
import { parseSort, type SortSpec } from './sort.ts';

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
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGER = /^[+-]?\d+$/;

/** Python's `int()` on a query value: surrounding blanks allowed, optional sign, digits only. */
const parseInteger = (raw: string): number | undefined => {
  const text = raw.trim();
  return INTEGER.test(text) ? Number(text) + 0 : undefined; // + 0 turns -0 into 0
};

/** Parameters that are not filters. */
const CONTROL_KEYS = new Set(['limit', 'marker', 'member_status', 'tag', 'sort', 'sort_key', 'sort_dir']);

/**
 * Parses `GET /v2/images` parameters (docs/api.md#listing-images). Pass the raw query string (API Gateway's
 * `rawQueryString`; its `queryStringParameters` joins repeated keys with commas and would corrupt
 * `tag` and `in:` lists) or a URLSearchParams.
 *
 * Repeated single-valued parameters: `limit`, `marker`, `member_status` take the first occurrence
 * (Glance pops them), filters the last (Glance reads them as a dict). `tag` accumulates; repeated
 * `sort` values are concatenated. Any other key is an equality filter on an additional property;
 * `deleted` is ignored (Glance overrides it).
 *
 * @throws BadRequest for every malformed value listed in docs/api.md#listing-images.
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
