/**
 * The order of `GET /v2/images` (docs/api.md#listing-images): the sort parameters in both of Glance's syntaxes and
 * `compareImages`, the total order (with Glance's tie-breakers) that makes "after the marker" well
 * defined. Pure.
 */
import { BadRequest } from '#shared/errors';
import type { ImageRecord } from '#shared/images/model';
import { includes } from './filters.ts';

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

const DEFAULT_SORT_KEY: SortKey = 'created_at';
const DEFAULT_SORT_DIR: SortDir = 'desc';
const TIE_BREAKERS: readonly SortKey[] = ['created_at', 'id'];

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
export const parseSort = (params: URLSearchParams): SortSpec[] => {
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
