/**
 * MemberRepository on dynalite (shared/members/repository.ts): the member item's invariants under
 * storms of concurrent adds, status changes and removals (never more than the quota, never a
 * member without its index entry), and the images shared with a project found by one Query.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membersKey } from '#shared/table';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
import { queuedImage } from '#test/helpers/images';

let db: DynamoFixture;
beforeAll(async () => {
  db = await startDynamo();
});
afterAll(() => db.stop());

const members = () => db.images.members;

/** The raw items under the image's member partition: the member map and every entry. */
const rawItems = async (imageId: string) => {
  const { Items = [] } = await db.doc.send(
    new QueryCommand({
      TableName: db.emulators.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': membersKey(imageId).pk },
      ConsistentRead: true,
    }),
  );
  const map = Items.find((item) => item.sk === 'MEMBERS')?.members ?? {};
  const entries = new Map(
    Items.filter((item) => item.sk !== 'MEMBERS').map((item) => [String(item.member_id), String(item.entry)]),
  );
  return { map: map as Record<string, { entry: string }>, entries };
};

const PROJECTS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'];

describe('MemberRepository on dynalite', () => {
  it('keeps the quota and every member with its entry through storms of concurrent operations', async () => {
    const quota = 4;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(
            fc.record({
              kind: fc.constantFrom('add', 'add', 'remove', 'accept'),
              project: fc.constantFrom(...PROJECTS),
            }),
            { minLength: 1, maxLength: 16 },
          ),
          { minLength: 1, maxLength: 4 },
        ),
        async (waves) => {
          const image = queuedImage();
          for (const wave of waves) {
            await Promise.all(
              wave.map(({ kind, project }) => {
                if (kind === 'add') return members().add(image, project, quota);
                if (kind === 'remove') return members().remove(image.id, project);
                return members().setStatus(image.id, project, 'accepted');
              }),
            );
            const { map, entries } = await rawItems(image.id);
            const current = Object.keys(map);
            expect(current.length).toBeLessThanOrEqual(quota);
            // Every member has its entry (a losing concurrent add of the same project may have
            // rewritten its token; the entry then outlives a removal, pointing at nothing).
            for (const key of current) expect(entries.has(key.slice(2))).toBe(true);
            const listed = (await members().list(image.id)).map((member) => member.member_id).sort();
            expect(listed).toEqual(current.map((key) => key.slice(2)).sort());
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('lets 40 concurrent adds of different projects to a new image all land under a large quota', async () => {
    const image = queuedImage();
    const projects = Array.from({ length: 40 }, (_, i) => `p-many-${i}`);
    const outcomes = await Promise.all(projects.map((project) => members().add(image, project, 128)));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(projects.map(() => 'added'));
    expect((await members().list(image.id)).map((member) => member.member_id).sort()).toEqual(
      projects.sort(),
    );
  });

  it('answers exists and full as Glance orders them: the quota first', async () => {
    const image = queuedImage();
    expect((await members().add(image, 'p0', 2)).kind).toBe('added');
    expect(await members().add(image, 'p0', 2)).toEqual({ kind: 'exists' });
    expect((await members().add(image, 'p1', 2)).kind).toBe('added');
    expect(await members().add(image, 'p0', 2)).toEqual({ kind: 'full', count: 2 });
    expect(await members().add(image, 'p2', 0)).toEqual({ kind: 'full', count: 2 });
  });

  it('finds the images shared with a project with one Query, in index order, and drops removed ones', async () => {
    const images = [0, 1, 2].map((i) =>
      queuedImage({ created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }),
    );
    for (const image of images) await members().add(image, 'p-consumer', 10);
    await members().remove(images[1]?.id ?? '', 'p-consumer');
    const first = await members().sharedWith('p-consumer', { descending: true, limit: 10 });
    expect(first.imageIds).toEqual([images[2]?.id, images[0]?.id]);
    const statuses = await members().statusesOf(
      images.map((image) => image.id),
      'p-consumer',
    );
    expect([...statuses.values()]).toEqual(['pending', null, 'pending']);
  });

  it('removes every member and entry of an image, stale entries included', async () => {
    const image = queuedImage();
    for (const project of PROJECTS.slice(0, 3)) await members().add(image, project, 10);
    // A stale entry: a member whose token no longer matches (a concurrent re-add rewrote it).
    await members().add(queuedImage({ id: image.id, created_at: image.created_at }), 'p3', 10);
    await members().removeAll(image.id);
    const { map, entries } = await rawItems(image.id);
    expect(map).toEqual({});
    expect(entries.size).toBe(0);
    expect(await members().list(image.id)).toEqual([]);
  });
});
