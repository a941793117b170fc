/**
 * No list page can exceed Lambda's 6 MB response (docs/api.md#response-size): images and tasks
 * large enough that a 1000-entry page of them would be several times the limit are listed in
 * pages that end early with `next`, and following `next` gives every entry exactly once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTaskRecord } from '#shared/import/records';
import { tasks } from '#shared/runtime';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import type { Json } from '#test/integration/uploads/helpers';

let stack: TestStack;
let owner: string;
let other: string;
let admin: string;

/** 60,000 control characters: 7 bytes each once escaped twice, about 420 KB in the response. */
const HEAVY = '\u0001'.repeat(60_000);
const IMAGES = 10;

beforeAll(async () => {
  stack = await startTestStack();
  owner = await stack.tokenFor({ project: 'p-heavy', roles: ['member', 'reader'] });
  other = await stack.tokenFor({ project: 'p-reader', roles: ['member', 'reader'] });
  admin = await stack.tokenFor({ project: 'p-admin', roles: ['admin', 'member', 'reader'] });
});
afterAll(() => stack.stop());

/** Follows `next` from `path` to the end; every page must answer 200. */
const allPages = async (path: string, token: string, key: 'images' | 'tasks') => {
  const pages: Json[][] = [];
  for (let next: string | undefined = path; next !== undefined; ) {
    const response = await stack.api('GET', next, { token });
    expect(response.status).toBe(200);
    expect(Buffer.byteLength(response.text)).toBeLessThan(6_291_456);
    pages.push(response.json[key]);
    next = response.json.next;
    expect(pages.length).toBeLessThan(50);
  }
  return pages;
};

describe('lists of large entries', () => {
  let ids: string[];

  beforeAll(async () => {
    ids = [];
    for (let i = 0; i < IMAGES; i++) {
      const response = await stack.api('POST', '/v2/images', {
        token: owner,
        body: { name: `heavy-${i}`, visibility: 'community', heavy_a: HEAVY, heavy_b: HEAVY },
      });
      expect(response.status).toBe(201);
      ids.push(response.json.id);
    }
  });

  it.each([
    ['the owner, default list', () => owner, '/v2/images?limit=1000'],
    ['another project, community images', () => other, '/v2/images?visibility=community&limit=1000'],
    ['an admin, every image', () => admin, '/v2/images?visibility=all&limit=1000'],
    ['the owner, sorted by name', () => owner, '/v2/images?limit=1000&sort=name:asc'],
  ])('pages %s under the limit and loses nothing', async (_, token, path) => {
    const pages = await allPages(path, token(), 'images');
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages.slice(0, -1)) expect(page.length).toBeLessThan(IMAGES);
    const listed = pages.flat().map((image) => image.id);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    expect(pages.flat()[0].heavy_a).toBe(HEAVY);
  });
});

describe('an image with large tasks', () => {
  it('pages GET /v2/images/{id}/tasks with next and marker', async () => {
    const image = await stack.api('POST', '/v2/images', { token: owner, body: { name: 'tasks' } });
    const imageId = image.json.id;
    const created: string[] = [];
    // Task input is stored as JSON text (an item of at most 400 KB), where a control character
    // takes 6 bytes and its view escaped once more 7: twelve such tasks cross one page's budget.
    for (let i = 0; i < 12; i++) {
      const task = newTaskRecord({
        id: randomUUID(),
        type: 'import',
        input: { note: '\u0001'.repeat(60_000) },
        owner: 'p-heavy',
        imageId,
        userId: 'user-p-heavy',
        requestId: undefined,
        now: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      });
      await tasks().create(task);
      created.push(task.id);
    }
    const pages = await allPages(`/v2/images/${imageId}/tasks`, owner, 'tasks');
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat().map((task) => task.id)).toEqual(created);

    const unknown = await stack.api('GET', `/v2/images/${imageId}/tasks?marker=${randomUUID()}`, {
      token: owner,
    });
    expect(unknown.status).toBe(400);
  });
});
