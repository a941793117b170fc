/** The `first` and `next` links of a `GET /v2/images` page (docs/api.md#listing-images). Pure. */

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
 * The `first` and `next` links of a list body (docs/api.md#listing-images): `first` is `path` plus the query
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
