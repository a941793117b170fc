/**
 * `GET /v2/images` over the indexes (docs/api.md#listing-images): the caller's own images come from
 * the owner index, public and community ones from the visibility index, the images shared with the
 * caller's project from its member entries (docs/api.md#members), and the streams are merged. In
 * Glance's default order (created_at, then id) every stream is already sorted by its index sort
 * key, so pages are read lazily and a page costs the same with 100 or 100,000 images. Any other
 * order reads the matching streams whole and sorts in memory, a known cost documented there.
 *
 * Which images belong to the caller's list is decided per image by the policy (`canSeeImage`)
 * and the list scope (`inListScope`: default set, `visibility`, `member_status`), never by the
 * stream that brought it, so an image reached twice is judged the same both times.
 */
import type { Caller } from '#shared/auth';
import { BadRequest } from '#shared/errors';
import type { Membership } from '#shared/members/model';
import { canSeeImage } from '#shared/policy';
import { isGone } from '#shared/status-rules';
import { createdSortKey, ownerIndexKey, visibilityIndexKey } from '#shared/table';
import { membershipOf } from './access.ts';
import { inListScope, type MemberStatusFilter, wantsMembership } from './list-query/scope.ts';
import { drainStream, mergeStreams, type ReadPage } from './merge.ts';
import { type ImageRecord, VISIBILITIES, type Visibility } from './model.ts';
import type { ImageReads } from './repository.ts';

export interface ListRequest {
  readonly limit: number;
  readonly marker?: string;
  /** `undefined`: Glance's default set; `all`: every visibility. */
  readonly visibility?: Visibility | 'all';
  /** Which shared images of other projects a member project lists (default `accepted`). */
  readonly memberStatus?: MemberStatusFilter;
  /** True when the order is created_at then id, both in the same direction. */
  readonly indexOrder: { readonly descending: boolean } | undefined;
  readonly matches: (image: ImageRecord) => boolean;
  readonly compare: (a: ImageRecord, b: ImageRecord) => number;
  /**
   * Whether one more image still fits the response (shared/http/response-budget.ts, which always
   * admits a page's first entry); a page cut short gets a `next` marker like a full one.
   */
  readonly admit?: (image: ImageRecord) => boolean;
}

export interface ListResult {
  readonly images: ImageRecord[];
  /** Id for the `next` link's marker, when the page was full or cut short by the response budget. */
  readonly nextMarker?: string;
}

/** An image a stream found, with the caller project's membership of it. */
export interface Candidate {
  readonly image: ImageRecord;
  readonly membership: Membership;
}

/** One page request on an index partition. */
export interface IndexPageInput {
  readonly descending: boolean;
  /** Exclusive bound on the index sort key: start after this position. */
  readonly after?: string;
  readonly limit: number;
  readonly startKey?: Record<string, unknown>;
}

/** What a listing reads: the storage behind `listImages`, an in-memory one in tests. */
export interface ListingStore {
  get(id: string): Promise<ImageRecord | undefined>;
  /** The caller project's membership of the image (null unless it is a shared image of another project). */
  membershipOf(caller: Caller, image: ImageRecord): Promise<Membership>;
  /** One page of an image index partition (gsi1 by owner, gsi2 by visibility). */
  queryIndex(
    input: IndexPageInput & { readonly index: 'gsi1' | 'gsi2'; readonly partition: string },
  ): Promise<{ images: ImageRecord[]; lastKey?: Record<string, unknown> }>;
  /**
   * One page of the member entries of a project, in index order: the images they point at whose
   * membership `memberStatus` wants (`wantsMembership`), with that membership. Images of other
   * memberships are never loaded, so shares the project has not accepted cost the default listing
   * no image read; images that no longer exist are left out. A page may hold no candidate and
   * still have a `lastKey`.
   */
  sharedWith(
    project: string,
    input: IndexPageInput,
    memberStatus: MemberStatusFilter,
  ): Promise<{ candidates: Candidate[]; lastKey?: Record<string, unknown> }>;
}

/**
 * The listing store on DynamoDB: one Query per page and stream. For shared images, a BatchGetItem
 * of the project's member statuses, projected to that one member, and only then a BatchGetItem of
 * the images whose status the listing wants: another project can make any number of member
 * entries point at the caller's project, and reading their images first would let it make every
 * listing read them all.
 */
export const imageListingStore = (repository: ImageReads): ListingStore => ({
  get: (id) => repository.get(id),
  membershipOf: (caller, image) => membershipOf(repository.members, caller, image),
  queryIndex: (input) => repository.queryIndex(input),
  sharedWith: async (project, input, memberStatus) => {
    const { imageIds, lastKey } = await repository.members.sharedWith(project, input);
    const statuses = await repository.members.statusesOf(imageIds, project);
    const wanted = imageIds.filter((id) => wantsMembership(memberStatus, statuses.get(id)));
    const found = await repository.getMany(wanted);
    const byId = new Map(found.map((image) => [image.id, image]));
    const candidates = wanted.flatMap((id) => {
      const image = byId.get(id);
      return image ? [{ image, membership: statuses.get(id) ?? null }] : [];
    });
    return { candidates, ...(lastKey ? { lastKey } : {}) };
  },
});

/** Which index partitions a stream reads. */
export type Stream =
  | { readonly kind: 'index'; readonly index: 'gsi1' | 'gsi2'; readonly partition: string }
  | { readonly kind: 'sharedWith'; readonly project: string };

const own = (caller: Caller): Stream => ({
  kind: 'index',
  index: 'gsi1',
  partition: ownerIndexKey(caller.projectId),
});
const byVisibility = (visibility: Visibility): Stream => ({
  kind: 'index',
  index: 'gsi2',
  partition: visibilityIndexKey(visibility),
});
const sharedWith = (caller: Caller): Stream => ({ kind: 'sharedWith', project: caller.projectId });

/**
 * Which streams can hold what the caller may list (docs/api.md#visibility). Community images of
 * other projects appear only when asked for; shared images of other projects come from the
 * caller project's member entries.
 */
export const streamsFor = (caller: Caller, visibility: Visibility | 'all' | undefined): Stream[] => {
  if (caller.isAdmin) {
    if (visibility === undefined)
      return [byVisibility('public'), byVisibility('shared'), byVisibility('private'), own(caller)];
    if (visibility === 'all') return VISIBILITIES.map(byVisibility);
    return [byVisibility(visibility)];
  }
  if (visibility === undefined) return [own(caller), byVisibility('public'), sharedWith(caller)];
  if (visibility === 'all')
    return [own(caller), byVisibility('public'), byVisibility('community'), sharedWith(caller)];
  if (visibility === 'public' || visibility === 'community') return [byVisibility(visibility)];
  if (visibility === 'shared') return [own(caller), sharedWith(caller)];
  return [own(caller)];
};

const readerOf =
  (
    store: ListingStore,
    stream: Stream,
    descending: boolean,
    after: string | undefined,
    memberStatus: MemberStatusFilter,
  ): ReadPage<Candidate> =>
  async (start, size) => {
    const input = {
      descending,
      after,
      limit: size,
      startKey: start as Record<string, unknown> | undefined,
    };
    if (stream.kind === 'sharedWith') {
      const page = await store.sharedWith(stream.project, input, memberStatus);
      return { items: page.candidates, next: page.lastKey };
    }
    const page = await store.queryIndex({ ...input, index: stream.index, partition: stream.partition });
    return { items: page.images.map((image) => ({ image, membership: null })), next: page.lastKey };
  };

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

const positionOf = (candidate: Candidate) => createdSortKey(candidate.image.created_at, candidate.image.id);

export const listImages = async (
  store: ListingStore,
  caller: Caller,
  request: ListRequest,
): Promise<ListResult> => {
  const marker = request.marker === undefined ? undefined : await store.get(request.marker);
  if (
    request.marker !== undefined &&
    (!marker || !canSeeImage(caller, marker, await store.membershipOf(caller, marker)))
  ) {
    throw new BadRequest(`Invalid marker. Image ${request.marker} could not be found.`);
  }
  if (request.limit === 0) return { images: [] };

  const scope = { visibility: request.visibility, memberStatus: request.memberStatus ?? 'accepted' };
  // Gone images are in no image index, but member entries may still point at them.
  const listed = ({ image, membership }: Candidate) =>
    !isGone(image.status) &&
    canSeeImage(caller, image, membership) &&
    inListScope(image, scope, caller, membership) &&
    request.matches(image);
  const admit = request.admit ?? (() => true);
  const page: ImageRecord[] = [];
  const seen = new Set<string>();
  let cut = false;
  /** Takes one candidate; false once the page is complete. */
  const take = (candidate: Candidate): boolean => {
    if (seen.has(candidate.image.id)) return true;
    seen.add(candidate.image.id);
    if (!listed(candidate)) return true;
    if (!admit(candidate.image)) {
      cut = true;
      return false;
    }
    page.push(candidate.image);
    return page.length < request.limit;
  };

  const streams = streamsFor(caller, request.visibility);
  if (request.indexOrder) {
    const { descending } = request.indexOrder;
    const after = marker ? createdSortKey(marker.created_at, marker.id) : undefined;
    const readers = streams.map((stream) => readerOf(store, stream, descending, after, scope.memberStatus));
    for await (const candidate of mergeStreams(readers, positionOf, descending, request.limit + 1)) {
      if (!take(candidate)) break;
    }
  } else {
    const everything = await Promise.all(
      streams.map((stream) => drainStream(readerOf(store, stream, false, undefined, scope.memberStatus))),
    );
    const sorted = everything.flat().sort((a, b) => request.compare(a.image, b.image));
    for (const candidate of sorted) {
      if (marker && request.compare(candidate.image, marker) <= 0) continue;
      if (!take(candidate)) break;
    }
  }
  const last = page.at(-1);
  return (page.length === request.limit || cut) && last
    ? { images: page, nextMarker: last.id }
    : { images: page };
};
