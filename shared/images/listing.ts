/**
 * `GET /v2/images` over the indexes: the caller's own images come from the owner index, public
 * (and community) ones from the visibility index, and the streams are merged. In Glance's
 * default order (created_at, then id) every stream is already sorted by its index sort key, so
 * pages are read lazily and a page costs the same with 100 or 100,000 images. Any other order
 * reads the matching streams whole and sorts in memory.
 */
import type { Caller } from '#shared/auth';
import { BadRequest } from '#shared/errors';
import { canSeeImage } from '#shared/policy';
import { createdSortKey, ownerIndexKey, visibilityIndexKey } from '#shared/table';
import { type ImageRecord, VISIBILITIES, type Visibility } from './model.ts';
import type { ImageRepository } from './repository.ts';

export interface ListRequest {
  readonly limit: number;
  readonly marker?: string;
  /** `undefined`: Glance's default set; `all`: every visibility. */
  readonly visibility?: Visibility | 'all';
  /** True when the order is created_at then id, both in the same direction. */
  readonly indexOrder: { readonly descending: boolean } | undefined;
  readonly matches: (image: ImageRecord) => boolean;
  readonly compare: (a: ImageRecord, b: ImageRecord) => number;
}

export interface ListResult {
  readonly images: ImageRecord[];
  /** Id for the `next` link's marker, when the page was full. */
  readonly nextMarker?: string;
}

interface Stream {
  readonly index: 'gsi1' | 'gsi2';
  readonly partition: string;
}

const own = (caller: Caller): Stream => ({ index: 'gsi1', partition: ownerIndexKey(caller.projectId) });
const byVisibility = (visibility: Visibility): Stream => ({
  index: 'gsi2',
  partition: visibilityIndexKey(visibility),
});

/**
 * Which index partitions can hold what the caller may list (docs/api.md#visibility). Community images of
 * other projects appear only when asked for; shared images of other projects would need image
 * members, which are not modelled yet.
 */
export const streamsFor = (caller: Caller, visibility: Visibility | 'all' | undefined): Stream[] => {
  if (caller.isAdmin) {
    if (visibility === undefined)
      return [byVisibility('public'), byVisibility('shared'), byVisibility('private'), own(caller)];
    if (visibility === 'all') return VISIBILITIES.map(byVisibility);
    return [byVisibility(visibility)];
  }
  if (visibility === undefined) return [own(caller), byVisibility('public')];
  if (visibility === 'all') return [own(caller), byVisibility('public'), byVisibility('community')];
  if (visibility === 'public' || visibility === 'community') return [byVisibility(visibility)];
  return [own(caller)];
};

/**
 * Reads one index partition page by page, in index order, after an optional position. The first
 * page is just big enough for the listing; later pages double, so filters that reject most
 * images cost few round trips.
 */
class IndexCursor {
  private buffer: ImageRecord[] = [];
  private lastKey: Record<string, unknown> | undefined;
  private done = false;

  constructor(
    private readonly repository: ImageRepository,
    private readonly stream: Stream,
    private readonly descending: boolean,
    private readonly after: string | undefined,
    private pageSize: number,
  ) {}

  async peek(): Promise<ImageRecord | undefined> {
    while (this.buffer.length === 0 && !this.done) {
      const page = await this.repository.queryIndex({
        ...this.stream,
        descending: this.descending,
        after: this.after,
        limit: this.pageSize,
        startKey: this.lastKey,
      });
      this.buffer = page.images;
      this.lastKey = page.lastKey;
      this.pageSize = Math.min(this.pageSize * 2, 1000);
      this.done = page.lastKey === undefined;
    }
    return this.buffer[0];
  }

  take(): void {
    this.buffer.shift();
  }

  async drain(): Promise<ImageRecord[]> {
    const all: ImageRecord[] = [];
    for (let next = await this.peek(); next; next = await this.peek()) {
      all.push(...this.buffer);
      this.buffer = [];
    }
    return all;
  }
}

/**
 * The index order: created_at then id, both in one direction. That is exactly the order of the
 * index sort key `<created_at>#<id>`, so such a listing can be read lazily.
 */
export const isIndexOrder = (
  sort: readonly { key: string; dir: 'asc' | 'desc' }[],
): { descending: boolean } | undefined => {
  const [first, second] = sort;
  if (sort.length !== 2 || first?.key !== 'created_at' || second?.key !== 'id' || first.dir !== second.dir) {
    return undefined;
  }
  return { descending: first.dir === 'desc' };
};

const positionOf = (image: ImageRecord) => createdSortKey(image.created_at, image.id);

export const listImages = async (
  repository: ImageRepository,
  caller: Caller,
  request: ListRequest,
): Promise<ListResult> => {
  const marker = request.marker === undefined ? undefined : await repository.get(request.marker);
  if (request.marker !== undefined && (!marker || !canSeeImage(caller, marker))) {
    throw new BadRequest(`Invalid marker. Image ${request.marker} could not be found.`);
  }
  const visible = (image: ImageRecord) =>
    canSeeImage(caller, image) &&
    (request.visibility === undefined ||
      request.visibility === 'all' ||
      image.visibility === request.visibility) &&
    request.matches(image);
  const streams = streamsFor(caller, request.visibility);
  if (request.limit === 0) return { images: [] };

  const page: ImageRecord[] = [];
  const seen = new Set<string>();
  const accept = (image: ImageRecord) => {
    if (seen.has(image.id)) return;
    seen.add(image.id);
    if (visible(image)) page.push(image);
  };

  if (request.indexOrder) {
    const { descending } = request.indexOrder;
    const after = marker ? positionOf(marker) : undefined;
    const pageSize = Math.min(request.limit + 1, 1000);
    const cursors = streams.map((stream) => new IndexCursor(repository, stream, descending, after, pageSize));
    while (page.length < request.limit) {
      let best: { cursor: IndexCursor; image: ImageRecord } | undefined;
      for (const cursor of cursors) {
        const head = await cursor.peek();
        if (!head) continue;
        const ahead = best && (positionOf(head) > positionOf(best.image) ? descending : !descending);
        if (!best || ahead) best = { cursor, image: head };
      }
      if (!best) break;
      best.cursor.take();
      accept(best.image);
    }
  } else {
    const everything = await Promise.all(
      streams.map((stream) => new IndexCursor(repository, stream, false, undefined, 1000).drain()),
    );
    for (const image of everything.flat().sort(request.compare)) {
      if (marker && request.compare(image, marker) <= 0) continue;
      accept(image);
      if (page.length === request.limit) break;
    }
  }
  const last = page.at(-1);
  return page.length === request.limit && last ? { images: page, nextMarker: last.id } : { images: page };
};
