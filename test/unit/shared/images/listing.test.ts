/**
 * The listing merge (shared/images/listing.ts, merge.ts) against a brute-force model: random
 * images of several projects and visibilities, random memberships in every status (and stale
 * member entries that point at nothing), random callers and queries, index pages of random
 * sizes. Paging through with `next` must give exactly Glance's list, page by page.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Caller } from '#shared/auth';
import { type MemberStatusFilter, wantsMembership } from '#shared/images/list-query/scope';
import { type Candidate, type ListingStore, type ListRequest, listImages } from '#shared/images/listing';
import { mergeStreams, type ReadPage } from '#shared/images/merge';
import { type ImageRecord, VISIBILITIES, type Visibility } from '#shared/images/model';
import { MEMBER_STATUSES, type MemberStatus, type Membership } from '#shared/members/model';
import type { ImageStatus } from '#shared/status-rules';
import { createdSortKey, ownerIndexKey, visibilityIndexKey } from '#shared/table';
import { queuedImage } from '#test/helpers/images';

const PROJECTS = ['p0', 'p1', 'p2', 'p3'] as const;
const position = (image: ImageRecord) => createdSortKey(image.created_at, image.id);
const isGone = (image: ImageRecord) => image.status === 'deleted' || image.status === 'pending_delete';

interface World {
  readonly images: ImageRecord[];
  /** image id → project → member status. */
  readonly members: Map<string, Map<string, MemberStatus>>;
  /** Member entries (pointers), present for every member and for some removed ones. */
  readonly entries: { imageId: string; project: string }[];
  /** Largest page an index Query returns (DynamoDB stops at 1 MB whatever the limit). */
  readonly pageCap: number;
}

/** The store over plain arrays, paging like DynamoDB: sorted partitions, limits, start keys. */
const memoryStore = (world: World): ListingStore & { queries: number } => {
  const byId = new Map(world.images.map((image) => [image.id, image]));
  const statusOf = (imageId: string, project: string): Membership =>
    world.members.get(imageId)?.get(project) ?? null;
  const page = <T>(
    items: T[],
    key: (item: T) => string,
    input: { descending: boolean; after?: string; limit: number; startKey?: Record<string, unknown> },
  ) => {
    const sorted = [...items].sort((a, b) => key(a).localeCompare(key(b)) * (input.descending ? -1 : 1));
    const { after } = input;
    const rest =
      after === undefined
        ? sorted
        : sorted.filter((item) => (input.descending ? key(item) < after : key(item) > after));
    const offset = Number(input.startKey?.offset ?? 0);
    const size = Math.min(input.limit, world.pageCap);
    const slice = rest.slice(offset, offset + size);
    return { slice, lastKey: offset + size < rest.length ? { offset: offset + size } : undefined };
  };
  const store = {
    queries: 0,
    get: async (id: string) => byId.get(id),
    membershipOf: async (caller: Caller, image: ImageRecord) =>
      !caller.isAdmin && image.visibility === 'shared' && image.owner !== caller.projectId
        ? statusOf(image.id, caller.projectId)
        : null,
    queryIndex: async (input: Parameters<ListingStore['queryIndex']>[0]) => {
      store.queries++;
      const inPartition = world.images.filter(
        (image) =>
          !isGone(image) &&
          (input.index === 'gsi1'
            ? ownerIndexKey(image.owner ?? '') === input.partition
            : visibilityIndexKey(image.visibility) === input.partition),
      );
      const { slice, lastKey } = page(inPartition, position, input);
      return { images: slice, ...(lastKey ? { lastKey } : {}) };
    },
    sharedWith: async (
      project: string,
      input: Parameters<ListingStore['sharedWith']>[1],
      memberStatus: Parameters<ListingStore['sharedWith']>[2],
    ) => {
      store.queries++;
      const mine = world.entries.filter((entry) => entry.project === project);
      const { slice, lastKey } = page(
        mine,
        (entry) => position(byId.get(entry.imageId) as ImageRecord),
        input,
      );
      // As the DynamoDB store: only shares of the asked-for status, so a page may hold none.
      const candidates: Candidate[] = slice
        .map((entry) => ({
          image: byId.get(entry.imageId) as ImageRecord,
          membership: statusOf(entry.imageId, project),
        }))
        .filter((candidate) => wantsMembership(memberStatus, candidate.membership));
      return { candidates, ...(lastKey ? { lastKey } : {}) };
    },
  };
  return store;
};

/** Glance's list, written out plainly (`_select_images_query` and the visibility rules). */
const model = (
  world: World,
  caller: Caller,
  query: { visibility?: Visibility | 'all'; memberStatus: MemberStatusFilter; descending: boolean },
  matches: (image: ImageRecord) => boolean,
): string[] => {
  const mine = (image: ImageRecord) => image.owner === caller.projectId;
  const listed = world.images.filter((image) => {
    if (isGone(image) || !matches(image)) return false;
    if (!caller.isAdmin) {
      const status = world.members.get(image.id)?.get(caller.projectId);
      const member =
        image.visibility === 'shared' &&
        status !== undefined &&
        (query.memberStatus === 'all' || status === query.memberStatus);
      if (!(image.visibility === 'public' || image.visibility === 'community' || mine(image) || member))
        return false;
    }
    if (query.visibility === undefined) return image.visibility !== 'community' || mine(image);
    return query.visibility === 'all' || image.visibility === query.visibility;
  });
  listed.sort((a, b) => position(a).localeCompare(position(b)) * (query.descending ? -1 : 1));
  return listed.map((image) => image.id);
};

const STATUSES: ImageStatus[] = ['active', 'queued', 'killed', 'deactivated', 'deleted', 'pending_delete'];
const TIMES = ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', '2026-01-02T10:00:00.000Z'];

const worldArbitrary: fc.Arbitrary<World> = fc
  .record({
    images: fc.uniqueArray(
      fc.record({
        id: fc.uuid({ version: 4 }),
        owner: fc.constantFrom(...PROJECTS),
        visibility: fc.constantFrom(...VISIBILITIES),
        status: fc.constantFrom(...STATUSES),
        created_at: fc.constantFrom(...TIMES),
        name: fc.constantFrom('a', 'b', 'skip'),
      }),
      { selector: (image) => image.id, maxLength: 24 },
    ),
    shares: fc.array(
      fc.record({
        image: fc.nat(),
        project: fc.constantFrom(...PROJECTS),
        status: fc.constantFrom(...MEMBER_STATUSES, 'removed' as const),
      }),
      { maxLength: 30 },
    ),
    pageCap: fc.integer({ min: 1, max: 6 }),
  })
  .map(({ images, shares, pageCap }) => {
    const records = images.map((image) =>
      queuedImage({ ...image, updated_at: image.created_at } as Partial<ImageRecord>),
    );
    const members = new Map<string, Map<string, MemberStatus>>();
    const entries = new Map<string, { imageId: string; project: string }>();
    for (const share of shares) {
      const image = records[share.image % Math.max(1, records.length)];
      if (!image) continue;
      entries.set(`${image.id}/${share.project}`, { imageId: image.id, project: share.project });
      const statuses = members.get(image.id) ?? new Map<string, MemberStatus>();
      if (share.status === 'removed') statuses.delete(share.project);
      else statuses.set(share.project, share.status);
      members.set(image.id, statuses);
    }
    return { images: records, members, entries: [...entries.values()], pageCap };
  });

const callerArbitrary: fc.Arbitrary<Caller> = fc
  .record({ project: fc.constantFrom(...PROJECTS), admin: fc.boolean() })
  .map(({ project, admin }) => ({
    userId: `u-${project}`,
    projectId: project,
    roles: admin ? ['admin', 'member', 'reader'] : ['member', 'reader'],
    isAdmin: admin,
  }));

const queryArbitrary = fc.record({
  visibility: fc.constantFrom(undefined, ...VISIBILITIES, 'all' as const),
  memberStatus: fc.constantFrom<MemberStatusFilter>('pending', 'accepted', 'rejected', 'all'),
  descending: fc.boolean(),
  limit: fc.integer({ min: 1, max: 7 }),
});

const matches = (image: ImageRecord) => image.name !== 'skip';

/** Pages through with `next` until there is none; every page and the marker it ends with. */
const pageThrough = async (
  store: ListingStore,
  caller: Caller,
  request: Omit<ListRequest, 'marker' | 'admit'>,
  admit: () => ListRequest['admit'] = () => undefined,
) => {
  const pages: string[][] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await listImages(store, caller, { ...request, marker, admit: admit() });
    pages.push(page.images.map((image) => image.id));
    if (!page.nextMarker) return pages;
    marker = page.nextMarker;
    if (pages.length > 200) throw new Error('paging does not end');
  }
};

describe('listImages against the model', () => {
  it('gives Glance list page by page, whatever the interleaving of own, public and shared images', async () => {
    await fc.assert(
      fc.asyncProperty(worldArbitrary, callerArbitrary, queryArbitrary, async (world, caller, query) => {
        const expected = model(world, caller, query, matches);
        const pages = await pageThrough(memoryStore(world), caller, {
          limit: query.limit,
          visibility: query.visibility,
          memberStatus: query.memberStatus,
          indexOrder: { descending: query.descending },
          matches,
          compare: () => 0,
        });
        expect(pages.flat()).toEqual(expected);
        pages.forEach((page, i) => {
          expect(page).toEqual(expected.slice(i * query.limit, (i + 1) * query.limit));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same list in memory order (any other sort key) as in index order', async () => {
    await fc.assert(
      fc.asyncProperty(worldArbitrary, callerArbitrary, queryArbitrary, async (world, caller, query) => {
        const sign = query.descending ? -1 : 1;
        const compare = (a: ImageRecord, b: ImageRecord) => position(a).localeCompare(position(b)) * sign;
        const pages = await pageThrough(memoryStore(world), caller, {
          limit: query.limit,
          visibility: query.visibility,
          memberStatus: query.memberStatus,
          indexOrder: undefined,
          matches,
          compare,
        });
        expect(pages.flat()).toEqual(model(world, caller, query, matches));
      }),
      { numRuns: 150 },
    );
  });

  it('loses and repeats nothing when the response budget cuts pages short', async () => {
    await fc.assert(
      fc.asyncProperty(
        worldArbitrary,
        callerArbitrary,
        queryArbitrary,
        fc.infiniteStream(fc.boolean()),
        async (world, caller, query, refusals) => {
          const pages = await pageThrough(
            memoryStore(world),
            caller,
            {
              limit: query.limit,
              visibility: query.visibility,
              memberStatus: query.memberStatus,
              indexOrder: { descending: query.descending },
              matches,
              compare: () => 0,
            },
            () => {
              // A budget admits the first entry of a page always, later ones as the stream says.
              let first = true;
              return () => {
                const admitted = first || !refusals.next().value;
                first = false;
                return admitted;
              };
            },
          );
          expect(pages.flat()).toEqual(model(world, caller, query, matches));
          for (const page of pages.slice(0, -1)) expect(page.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads a first page lazily: a small page of a large listing asks few index pages', async () => {
    const images = Array.from({ length: 300 }, (_, i) =>
      queuedImage({
        owner: PROJECTS[i % 3],
        visibility: i % 3 === 1 ? 'public' : 'shared',
        created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      }),
    );
    const members = new Map(
      images
        .filter((image) => image.owner === 'p2')
        .map((image) => [image.id, new Map([['p0', 'accepted' as const]])]),
    );
    const entries = [...members.keys()].map((imageId) => ({ imageId, project: 'p0' }));
    const store = memoryStore({ images, members, entries, pageCap: 1000 });
    const caller: Caller = { userId: 'u', projectId: 'p0', roles: ['member', 'reader'], isAdmin: false };
    const page = await listImages(store, caller, {
      limit: 5,
      indexOrder: { descending: true },
      matches: () => true,
      compare: () => 0,
    });
    expect(page.images).toHaveLength(5);
    expect(store.queries).toBe(3);
    const owners = page.images.map((image) => image.owner);
    expect(new Set(owners)).toEqual(new Set(['p0', 'p1', 'p2']));
  });
});

describe('mergeStreams', () => {
  it('merges sorted streams read in pages of any size into one sorted sequence', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 50 })), { maxLength: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        async (streams, size, descending) => {
          const key = (n: number) => String(n).padStart(3, '0');
          const sorted = streams.map((stream) => [...stream].sort((a, b) => (descending ? b - a : a - b)));
          const readers: ReadPage<number>[] = sorted.map((stream) => async (start, want) => {
            const offset = Number(start ?? 0);
            const take = Math.min(want, size);
            const next = offset + take < stream.length ? offset + take : undefined;
            return { items: stream.slice(offset, offset + take), ...(next === undefined ? {} : { next }) };
          });
          const merged: number[] = [];
          for await (const n of mergeStreams(readers, key, descending, 2)) merged.push(n);
          expect(merged).toEqual(sorted.flat().sort((a, b) => (descending ? b - a : a - b)));
        },
      ),
    );
  });
});
