/** `/v2/metadefs/namespaces/{namespace_name}/tags[/{tag_name}]`. */
import { describe, expect, it } from 'vitest';
import { createNamespace, glanceError, metadefsSuite } from './helpers.ts';

const { stack, admin, member, other } = metadefsSuite();

const path = (namespace: string, tag = '') =>
  `/v2/metadefs/namespaces/${namespace}/tags${tag ? `/${tag}` : ''}`;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const names = async (namespace: string, query = '') =>
  (await admin('GET', `${path(namespace)}${query}`)).json.tags.map((tag: { name: string }) => tag.name);
const duplicate = (name: string, namespace: string) =>
  `A metadata tag with name=${name} already exists in namespace=${namespace}. (Please note that metadata tag names are case insensitive).`;

describe('one tag', () => {
  it('creates (201), shows regardless of case, renames and deletes', async () => {
    const ns = await createNamespace(stack());
    const created = await admin('POST', path(ns, 'Blue'));
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      name: 'Blue',
      created_at: expect.stringMatching(TIME),
      updated_at: expect.stringMatching(TIME),
    });
    expect((await member('GET', path(ns, 'BLUE'))).json).toEqual(created.json);
    expect((await admin('POST', path(ns, 'blue'))).json).toEqual(glanceError(409, duplicate('blue', ns)));
    const renamed = await admin('PUT', path(ns, 'blue'), { name: 'Green' });
    expect(renamed.json).toMatchObject({ name: 'Green', created_at: created.json.created_at });
    expect((await admin('DELETE', path(ns, 'green'))).status).toBe(204);
    expect(await names(ns)).toEqual([]);
  });

  it('answers 404 for unknown tags, 409 for renames onto taken names', async () => {
    const ns = await createNamespace(stack(), { tags: [{ name: 'a' }, { name: 'b' }] });
    expect((await member('GET', path(ns, 'c'))).json).toEqual(
      glanceError(404, 'Could not find metadata tag c'),
    );
    expect((await admin('PUT', path(ns, 'c'), { name: 'd' })).status).toBe(404);
    expect((await admin('DELETE', path(ns, 'c'))).status).toBe(404);
    expect((await admin('PUT', path(ns, 'a'), { name: 'B' })).json).toEqual(
      glanceError(409, duplicate('B', ns)),
    );
  });

  it.each<[string, string, unknown, number, string]>([
    ['a name over 80 characters in the path', 'POST', undefined, 400, 'is too long'],
    ['a rename over 80 characters', 'PUT', { name: 't'.repeat(81) }, 400, 'is too long'],
    ['a rename without a name', 'PUT', {}, 400, "'name' is a required property"],
    ['a rename with a number', 'PUT', { name: 7 }, 400, "7 is not of type 'string'"],
    [
      'a rename setting created_at',
      'PUT',
      { name: 'x', created_at: 'now' },
      403,
      "Attribute 'created_at' is read-only.",
    ],
  ])('refuses %s', async (_, method, body, status, message) => {
    const ns = await createNamespace(stack(), { tags: [{ name: 'a' }] });
    const target = method === 'POST' ? path(ns, 't'.repeat(81)) : path(ns, 'a');
    expect((await admin(method, target, body)).json).toEqual(glanceError(status, message));
    expect(await names(ns)).toEqual(['a']);
  });
});

describe('many tags', () => {
  it('replaces all tags, or appends with X-Openstack-Append', async () => {
    const ns = await createNamespace(stack(), { tags: [{ name: 'old' }] });
    const replaced = await admin('POST', path(ns), { tags: [{ name: 'x' }, { name: 'y' }] });
    expect(replaced.status).toBe(201);
    expect(replaced.json).toEqual({ tags: [{ name: 'x' }, { name: 'y' }] });
    expect((await names(ns)).sort()).toEqual(['x', 'y']);
    await admin('POST', path(ns), { tags: [{ name: 'z' }] }, { 'X-Openstack-Append': 'True' });
    expect((await names(ns)).sort()).toEqual(['x', 'y', 'z']);
    await admin('POST', path(ns), { tags: [] });
    expect((await names(ns)).sort()).toEqual(['x', 'y', 'z']);
  });

  it('refuses duplicates in the list or (appending) with existing tags, writing nothing', async () => {
    const ns = await createNamespace(stack(), { tags: [{ name: 'keep' }] });
    expect((await admin('POST', path(ns), { tags: [{ name: 'a' }, { name: 'A' }] })).json).toEqual(
      glanceError(409, duplicate('A', ns)),
    );
    expect(
      (await admin('POST', path(ns), { tags: [{ name: 'KEEP' }] }, { 'x-openstack-append': 'yes' })).status,
    ).toBe(409);
    expect(await names(ns)).toEqual(['keep']);
  });

  it.each<[string, unknown, number]>([
    ['no list', { tag: 'x' }, 400],
    ['a string list', { tags: ['x'] }, 400],
    ['an item without a name', { tags: [{}] }, 400],
    ['an item with another key', { tags: [{ name: 'x', colour: 'red' }] }, 400],
    ['a name over 80 characters', { tags: [{ name: 't'.repeat(81) }] }, 400],
    ['an empty name', { tags: [{ name: '' }] }, 400],
    ['created_at', { tags: [], created_at: 'now' }, 403],
  ])('refuses %s, writing nothing', async (_, body, status) => {
    const ns = await createNamespace(stack(), { tags: [{ name: 'keep' }] });
    expect((await admin('POST', path(ns), body)).status).toBe(status);
    expect(await names(ns)).toEqual(['keep']);
  });

  it('lists names only, sorted and paged', async () => {
    const ns = await createNamespace(stack(), { tags: [{ name: 'b' }, { name: 'c' }, { name: 'a' }] });
    expect((await member('GET', path(ns))).json).toEqual({
      tags: [{ name: 'a' }, { name: 'c' }, { name: 'b' }],
    });
    expect(await names(ns, '?sort_key=name&sort_dir=asc')).toEqual(['a', 'b', 'c']);
    expect(await names(ns, '?sort_key=name&sort_dir=asc&limit=2&marker=a')).toEqual(['b', 'c']);
    expect((await member('GET', `${path(ns)}?marker=zz`)).json).toEqual(
      glanceError(404, 'Could not find metadata tag zz'),
    );
    for (const query of ['limit=x', 'limit=-1', 'sort_key=id', 'sort_dir=up']) {
      expect((await member('GET', `${path(ns)}?${query}`)).status).toBe(400);
    }
  });

  it('deletes all (204), but not in a protected namespace (403)', async () => {
    const ns = await createNamespace(stack(), { tags: [{ name: 'a' }] });
    expect((await admin('DELETE', path(ns))).status).toBe(204);
    expect(await names(ns)).toEqual([]);
    const locked = await createNamespace(stack(), { protected: true, tags: [{ name: 'a' }] });
    expect((await admin('DELETE', path(locked))).json).toEqual(
      glanceError(403, `Metadata definition namespace ${locked} is protected and cannot be deleted.`),
    );
    expect((await admin('DELETE', path(locked, 'a'))).json).toEqual(
      glanceError(403, 'Metadata definition tag a is protected and cannot be deleted.'),
    );
  });
});

describe('policy', () => {
  it('lets readers read, only admins change; private namespaces of others are 404', async () => {
    const ns = await createNamespace(stack(), {
      visibility: 'private',
      owner: 'p-one',
      tags: [{ name: 'a' }],
    });
    expect((await member('GET', path(ns, 'a'))).status).toBe(200);
    expect((await member('POST', path(ns, 'b'))).json).toEqual(
      glanceError(403, 'You are not authorized to complete add_metadef_tag action.'),
    );
    expect((await member('POST', path(ns), { tags: [{ name: 'b' }] })).json).toEqual(
      glanceError(403, 'You are not authorized to complete add_metadef_tags action.'),
    );
    expect((await member('PUT', path(ns, 'a'), { name: 'b' })).status).toBe(403);
    expect((await member('DELETE', path(ns, 'a'))).status).toBe(403);
    expect((await member('DELETE', path(ns))).status).toBe(403);
    expect((await other('GET', path(ns))).json).toEqual(glanceError(404, `Namespace ${ns} not found`));
    expect((await other('POST', path(ns, 'b'))).status).toBe(404);
  });
});
