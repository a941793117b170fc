/**
 * The listing on dynalite (shared/images/listing.ts, docs/api.md#listing-images) when another
 * project shares many images with the caller's project: member entries the caller has not
 * accepted must never cost a read of their image. Every image record the store loads through
 * `getMany` is counted, so the bound is on what the listing reads, not on how fast it is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberStatusFilter } from '#shared/images/list-query/scope';
import { compareImages, type SortSpec } from '#shared/images/list-query/sort';
import { imageListingStore, isIndexOrder, listImages } from '#shared/images/listing';
import type { ImageRecord } from '#shared/images/model';
import { ImageReads } from '#shared/images/repository';
import type { MemberStatus } from '#shared/members/model';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
import { member, queuedImage } from '#test/helpers/images';

/** Pending shares from the other project: enough that reading their images would dwarf a page. */
const PENDING = 300;
const WRITES_AT_ONCE = 25;
const victim = member('p-victim', 'u-victim');

/** The image reads, counting every image record loaded by id. */
class CountingReads extends ImageReads {
  loaded = 0;
  override async getMany(ids: readonly string[]): Promise<ImageRecord[]> {
    this.loaded += ids.length;
    return super.getMany(ids);
  }
}

let db: DynamoFixture;
let reads: CountingReads;
const shared: Record<MemberStatus, string[]> = { pending: [], accepted: [], rejected: [] };
let own: ImageRecord;

/** A shared image of `owner` created `second` seconds into the day, with `victim` as a member. */
const share = async (owner: string, second: number, status: MemberStatus) => {
  const image = await db.images.create(
    queuedImage({
      owner,
      visibility: 'shared',
      created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, second * 10)).toISOString(),
      // Padding: what makes each unwanted image expensive to load.
      properties: { padding: 'x'.repeat(2048) },
    }),
  );
  await db.images.members.add(image, victim.projectId, 10);
  if (status !== 'pending') await db.images.members.setStatus(image.id, victim.projectId, status);
  shared[status].push(image.id);
};

beforeAll(async () => {
  db = await startDynamo();
  reads = new CountingReads(db.doc, db.emulators.tableName, db.images.members);
  const plan: { owner: string; second: number; status: MemberStatus }[] = [];
  for (let i = 0; i < PENDING; i++) plan.push({ owner: 'p-attacker', second: i * 2, status: 'pending' });
  // Accepted and rejected shares of a third project, spread through the attacker's.
  for (const [i, second] of [21, 151, 299, 451, 599].entries())
    plan.push({ owner: 'p-friend', second, status: i === 2 ? 'rejected' : 'accepted' });
  for (let start = 0; start < plan.length; start += WRITES_AT_ONCE)
    await Promise.all(
      plan.slice(start, start + WRITES_AT_ONCE).map((s) => share(s.owner, s.second, s.status)),
    );
  own = await db.images.create(queuedImage({ owner: victim.projectId, visibility: 'private' }));
}, 120_000);
afterAll(() => db?.stop());

const DEFAULT_SORT: SortSpec[] = [
  { key: 'created_at', dir: 'desc' },
  { key: 'id', dir: 'desc' },
];

/** One listing call as the victim, and how many image records it loaded by id. */
const list = async (
  options: { limit?: number; marker?: string; memberStatus?: MemberStatusFilter; sort?: SortSpec[] } = {},
) => {
  const sort = options.sort ?? DEFAULT_SORT;
  reads.loaded = 0;
  const page = await listImages(imageListingStore(reads), victim, {
    limit: options.limit ?? 25,
    ...(options.marker ? { marker: options.marker } : {}),
    ...(options.memberStatus ? { memberStatus: options.memberStatus } : {}),
    indexOrder: isIndexOrder(sort),
    matches: () => true,
    compare: (a, b) => compareImages(a, b, sort),
  });
  return { ids: page.images.map((image) => image.id), nextMarker: page.nextMarker, loaded: reads.loaded };
};

describe(`the default listing with ${PENDING} pending shares from another project`, () => {
  it('lists the accepted shares and the own image, and loads no image it does not list', async () => {
    const { ids, nextMarker, loaded } = await list();
    expect(new Set(ids)).toEqual(new Set([own.id, ...shared.accepted]));
    expect(nextMarker).toBeUndefined();
    expect(loaded).toBe(shared.accepted.length);
  });

  it('pages through the accepted shares, each page loading only what it can list', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await list({ limit: 2, ...(marker ? { marker } : {}) });
      expect(page.loaded).toBeLessThanOrEqual(shared.accepted.length);
      seen.push(...page.ids);
      marker = page.nextMarker;
    } while (marker);
    expect(seen).toHaveLength(shared.accepted.length + 1);
    expect(new Set(seen)).toEqual(new Set([own.id, ...shared.accepted]));
  });

  it('reads the accepted shares alone in any other order too', async () => {
    const { ids, loaded } = await list({ sort: [{ key: 'name', dir: 'asc' }] });
    expect(new Set(ids)).toEqual(new Set([own.id, ...shared.accepted]));
    expect(loaded).toBe(shared.accepted.length);
  });

  it.each([
    ['pending', () => shared.pending.length],
    ['rejected', () => shared.rejected.length],
  ] as const)('member_status=%s still lists those shares, loading about a page', async (status, count) => {
    const limit = 10;
    const { ids, nextMarker, loaded } = await list({ limit, memberStatus: status });
    // The own image is listed whatever the member status.
    expect(ids).toHaveLength(Math.min(limit, count() + 1));
    for (const id of ids) expect(id === own.id || shared[status].includes(id)).toBe(true);
    if (count() + 1 > limit) expect(nextMarker).toBe(ids.at(-1));
    // The merge reads the member entries in doubling pages from limit + 1: loads stay near a page.
    expect(loaded).toBeLessThanOrEqual(3 * (limit + 1));
  });

  it('member_status=all loads each share it reads, and the first page stays near a page', async () => {
    const { ids, loaded } = await list({ limit: 10, memberStatus: 'all' });
    expect(ids).toHaveLength(10);
    expect(loaded).toBeLessThanOrEqual(3 * 11);
  });
});
