/**
 * Query parameters and paging of the metadefs listings, pure (docs/metadefs.md#listing-namespaces).
 * The repository reads every namespace with one paginated Query, and the page is cut here, in
 * Glance's order (the sort key, then `created_at`, then a stable tie-breaker).
 */
import { BadRequest } from '#shared/errors';
import {
  type MetadefTag,
  NAMESPACE_VISIBILITIES,
  type NamespaceRecord,
  type NamespaceVisibility,
} from './model.ts';

/** Glance's `limit_param_default` and `api_limit_max`. */
export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 1000;

export type SortDir = 'asc' | 'desc';

const sortDir = (query: URLSearchParams): SortDir => {
  const value = query.get('sort_dir') ?? 'desc';
  if (value !== 'asc' && value !== 'desc') throw new BadRequest(`Invalid sort direction: ${value}`);
  return value;
};

/** `limit`: an integer; `strict` refuses 0 (objects), otherwise 0 is allowed (namespaces, tags). */
const limitParam = (query: URLSearchParams, strict = false): number | undefined => {
  const raw = query.get('limit');
  if (raw === null) return undefined;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw new BadRequest('limit param must be an integer');
  const value = Number(raw);
  if (value < 0 || (strict && value === 0)) throw new BadRequest('limit param must be positive');
  return value;
};

const visibilityParam = <T extends string>(query: URLSearchParams, allowed: readonly T[]): T | undefined => {
  const value = query.get('visibility');
  if (!value) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new BadRequest(`Invalid visibility value: ${value}`);
  return value as T;
};

const sortKeyParam = <T extends string>(query: URLSearchParams, allowed: readonly T[], fallback: T): T => {
  const value = query.get('sort_key') ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new BadRequest(
      `Invalid sort key: ${value}. It must be one of the following: ${allowed.join(', ')}.`,
    );
  }
  return value as T;
};

// --- namespaces ---------------------------------------------------------------------------

export const NAMESPACE_SORT_KEYS = [
  'created_at',
  'updated_at',
  'namespace',
  'display_name',
  'description',
  'visibility',
  'protected',
  'owner',
] as const;
export type NamespaceSortKey = (typeof NAMESPACE_SORT_KEYS)[number];

export interface NamespaceListQuery {
  readonly limit: number;
  readonly marker?: string;
  readonly sortKey: NamespaceSortKey;
  readonly sortDir: SortDir;
  readonly visibility?: NamespaceVisibility;
  /** Namespaces associated with any of these resource types. */
  readonly resourceTypes?: readonly string[];
}

/** `GET /v2/metadefs/namespaces` parameters; other keys are ignored, as Glance ignores them. */
export const parseNamespaceListQuery = (query: URLSearchParams): NamespaceListQuery => {
  const limit = limitParam(query);
  const marker = query.get('marker');
  const resourceTypes = query.get('resource_types');
  const visibility = visibilityParam(query, NAMESPACE_VISIBILITIES);
  return {
    limit: Math.min(limit ?? DEFAULT_LIMIT, MAX_LIMIT),
    ...(marker ? { marker } : {}),
    sortKey: sortKeyParam(query, NAMESPACE_SORT_KEYS, 'created_at'),
    sortDir: sortDir(query),
    ...(visibility ? { visibility } : {}),
    ...(resourceTypes ? { resourceTypes: resourceTypes.split(',') } : {}),
  };
};

/** `GET .../namespaces/{name}`: Glance checks a `visibility` parameter there too, and uses only `resource_type`. */
export const checkNamespaceShowQuery = (query: URLSearchParams): void => {
  visibilityParam(query, NAMESPACE_VISIBILITIES);
};

/** Missing values sort first, as NULLs do in Glance's database. */
const compareValues = (a: unknown, b: unknown): number => {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  return a < b ? -1 : 1;
};

/** Order of two namespaces for a listing: the sort key, then creation time, then the internal id. */
export const compareNamespaces = (
  a: NamespaceRecord,
  b: NamespaceRecord,
  sortKey: NamespaceSortKey,
  dir: SortDir,
): number => {
  const order =
    compareValues(a[sortKey], b[sortKey]) ||
    compareValues(a.created_at, b.created_at) ||
    compareValues(a.id, b.id);
  return dir === 'asc' ? order : -order;
};

export const matchesNamespaceFilters = (record: NamespaceRecord, query: NamespaceListQuery): boolean =>
  (query.visibility === undefined || record.visibility === query.visibility) &&
  (query.resourceTypes === undefined ||
    record.resource_type_associations.some((association) => query.resourceTypes?.includes(association.name)));

/**
 * One page of the visible namespaces: filtered, sorted, after the marker's position (the marker
 * itself need not pass the filters, as with Glance's keyset paging), at most `limit` long.
 * `next` is the last name when the page is full.
 */
export const namespacePage = (
  visible: readonly NamespaceRecord[],
  query: NamespaceListQuery,
  marker?: NamespaceRecord,
): { namespaces: NamespaceRecord[]; next?: string } => {
  const sorted = visible
    .filter((record) => matchesNamespaceFilters(record, query))
    .sort((a, b) => compareNamespaces(a, b, query.sortKey, query.sortDir));
  const after = marker
    ? sorted.filter((record) => compareNamespaces(record, marker, query.sortKey, query.sortDir) > 0)
    : sorted;
  const namespaces = after.slice(0, query.limit);
  const last = namespaces.at(-1);
  return namespaces.length > 0 && namespaces.length === query.limit && last
    ? { namespaces, next: last.namespace }
    : { namespaces };
};

/**
 * Glance's `first` and `next` links: the request's own parameters (the first value of each),
 * without the marker, then with the new one last.
 */
export const namespaceLinks = (rawQuery: string, next?: string): { first: string; next?: string } => {
  const params = new URLSearchParams();
  for (const [key, value] of new URLSearchParams(rawQuery)) {
    if (key !== 'marker' && !params.has(key)) params.set(key, value);
  }
  const base = '/v2/metadefs/namespaces';
  const first = params.size ? `${base}?${params}` : base;
  if (next === undefined) return { first };
  params.set('marker', next);
  return { first, next: `${base}?${params}` };
};

// --- objects ------------------------------------------------------------------------------

/**
 * `GET .../objects`: Glance validates `limit`, `sort_dir` and `visibility` but lists every object
 * regardless, and so do we.
 */
export const checkObjectListQuery = (query: URLSearchParams): void => {
  limitParam(query, true);
  sortDir(query);
  visibilityParam(query, ['public', 'private', 'shared']);
};

// --- tags ---------------------------------------------------------------------------------

export const TAG_SORT_KEYS = ['created_at', 'updated_at', 'name'] as const;
export type TagSortKey = (typeof TAG_SORT_KEYS)[number];

export interface TagListQuery {
  /** Undefined (or 0, as Glance ignores it) lists all. */
  readonly limit?: number;
  readonly marker?: string;
  readonly sortKey: TagSortKey;
  readonly sortDir: SortDir;
}

export const parseTagListQuery = (query: URLSearchParams): TagListQuery => {
  const limit = limitParam(query);
  const marker = query.get('marker');
  visibilityParam(query, ['public', 'private', 'shared']);
  return {
    ...(limit ? { limit } : {}),
    ...(marker ? { marker } : {}),
    sortKey: sortKeyParam(query, TAG_SORT_KEYS, 'created_at'),
    sortDir: sortDir(query),
  };
};

/**
 * A page of tags after `marker` (a tag of this namespace, found by the caller). Ties are broken
 * by creation order, which tags created together share no timestamp to tell.
 */
export const tagPage = (
  tags: readonly MetadefTag[],
  query: TagListQuery,
  marker?: MetadefTag,
): MetadefTag[] => {
  const position = new Map(tags.map((tag, index) => [tag, index]));
  const compare = (a: MetadefTag, b: MetadefTag) => {
    const order =
      compareValues(a[query.sortKey], b[query.sortKey]) ||
      compareValues(a.created_at, b.created_at) ||
      (position.get(a) ?? 0) - (position.get(b) ?? 0);
    return query.sortDir === 'asc' ? order : -order;
  };
  const sorted = [...tags].sort(compare);
  const after = marker ? sorted.filter((tag) => compare(tag, marker) > 0) : sorted;
  return query.limit === undefined ? after : after.slice(0, query.limit);
};
