/** `/v2/metadefs/namespaces/{namespace_name}/objects[/{object_name}]`. */
import { describe, expect, it } from 'vitest';
import { createNamespace, glanceError, metadefsSuite } from './helpers.ts';

const { stack, admin, member, other } = metadefsSuite();

const path = (namespace: string, object = '') =>
  `/v2/metadefs/namespaces/${namespace}/objects${object ? `/${object}` : ''}`;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const MEMORY = {
  name: 'Memory',
  description: 'Memory settings',
  required: ['mem_page_size'],
  properties: { mem_page_size: { title: 'Page size', type: 'string', enum: ['small', 'large'] } },
};

describe('objects', () => {
  it('creates (201), lists, shows, updates and deletes', async () => {
    const ns = await createNamespace(stack());
    const created = await admin('POST', path(ns), MEMORY);
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      ...MEMORY,
      created_at: expect.stringMatching(TIME),
      updated_at: expect.stringMatching(TIME),
      self: `${path(ns)}/Memory`,
      schema: '/v2/schemas/metadefs/object',
    });
    expect(Object.keys(created.json)).toEqual([
      'name',
      'required',
      'description',
      'properties',
      'created_at',
      'updated_at',
      'self',
      'schema',
    ]);
    // Glance writes this schema link without its leading slash.
    expect((await member('GET', path(ns))).json).toEqual({
      objects: [created.json],
      schema: 'v2/schemas/metadefs/objects',
    });
    expect((await member('GET', path(ns, 'Memory'))).json).toEqual(created.json);
    const updated = await admin('PUT', path(ns, 'Memory'), { name: 'Memory', description: 'changed' });
    expect(updated.json).toMatchObject({
      name: 'Memory',
      description: 'changed',
      required: [],
      properties: {},
    });
    expect(updated.json.created_at).toBe(created.json.created_at);
    expect((await admin('DELETE', path(ns, 'Memory'))).status).toBe(204);
    expect((await member('GET', path(ns))).json.objects).toEqual([]);
  });

  it('renames with PUT, 409 onto a taken name, 409 for a duplicate create', async () => {
    const ns = await createNamespace(stack(), { objects: [{ name: 'a' }, { name: 'b' }] });
    expect((await admin('PUT', path(ns, 'a'), { name: 'c' })).json.name).toBe('c');
    expect((await admin('GET', path(ns, 'a'))).status).toBe(404);
    expect((await admin('PUT', path(ns, 'c'), { name: 'b' })).json).toEqual(
      glanceError(
        409,
        `Invalid update. It would result in a duplicate metadata definition object with the same name=b in namespace=${ns}.`,
      ),
    );
    expect((await admin('POST', path(ns), { name: 'b' })).json).toEqual(
      glanceError(409, `A metadata definition object with name=b already exists in namespace=${ns}.`),
    );
  });

  it('answers 404 with Glance messages for unknown objects and namespaces', async () => {
    const ns = await createNamespace(stack());
    expect((await member('GET', path(ns, 'nope'))).json).toEqual(
      glanceError(404, 'Could not find metadata object nope'),
    );
    expect((await admin('PUT', path(ns, 'nope'), { name: 'x' })).status).toBe(404);
    expect((await admin('DELETE', path(ns, 'nope'))).status).toBe(404);
    expect((await member('GET', path(`${ns}-missing`))).json).toEqual(
      glanceError(404, `Metadata definition namespace=${ns}-missing was not found.`),
    );
  });

  it('is for admins to change (403); private namespaces of others are 404', async () => {
    const ns = await createNamespace(stack(), {
      visibility: 'private',
      owner: 'p-one',
      objects: [{ name: 'o' }],
    });
    expect((await member('POST', path(ns), { name: 'x' })).json).toEqual(
      glanceError(403, 'You are not authorized to complete add_metadef_object action.'),
    );
    expect((await member('PUT', path(ns, 'o'), { name: 'o' })).status).toBe(403);
    expect((await member('DELETE', path(ns, 'o'))).status).toBe(403);
    expect((await member('DELETE', path(ns))).status).toBe(403);
    expect((await member('GET', path(ns, 'o'))).status).toBe(200);
    expect((await other('GET', path(ns))).status).toBe(404);
    expect((await other('GET', path(ns, 'o'))).status).toBe(404);
  });

  it('refuses deletes in a protected namespace, one or all; deletes all otherwise', async () => {
    const locked = await createNamespace(stack(), { protected: true, objects: [{ name: 'o' }] });
    expect((await admin('DELETE', path(locked, 'o'))).json).toEqual(
      glanceError(403, 'Metadata definition object o is protected and cannot be deleted.'),
    );
    expect((await admin('DELETE', path(locked))).status).toBe(403);
    const open = await createNamespace(stack(), { objects: [{ name: 'o' }, { name: 'p' }] });
    expect((await admin('DELETE', path(open))).status).toBe(204);
    expect((await admin('GET', path(open))).json.objects).toEqual([]);
  });

  it.each(['limit=0', 'limit=abc', 'sort_dir=up', 'visibility=everyone'])(
    'refuses ?%s with 400',
    async (query) => {
      const ns = await createNamespace(stack());
      expect((await member('GET', `${path(ns)}?${query}`)).status).toBe(400);
    },
  );
});

describe('bad object bodies: 4xx, nothing written', () => {
  it.each<[string, unknown, number, string]>([
    ['no name', { description: 'd' }, 400, "'name' is a required property"],
    ['a name over 80 characters', { name: 'o'.repeat(81) }, 400, 'is too long'],
    ['a wrong type', { name: 'o', required: 'mem' }, 400, "'mem' is not of type 'array'"],
    ['repeated required names', { name: 'o', required: ['a', 'a'] }, 400, 'has non-unique elements'],
    ['an unknown key', { name: 'o', colour: 'red' }, 400, "('colour' was unexpected)"],
    [
      'an invalid property definition',
      { name: 'o', properties: { p: { title: 'P', type: 'string', colour: 'red' } } },
      400,
      "Invalid property definition 'p': Additional properties are not allowed ('colour' was unexpected)",
    ],
    [
      'a property name over 80 characters',
      { name: 'o', properties: { ['p'.repeat(81)]: { title: 'P', type: 'string' } } },
      400,
      'is too long',
    ],
    ['self', { name: 'o', self: '/x' }, 403, "Attribute 'self' is read-only."],
    ['malformed JSON', '{"name": ', 400, 'Malformed JSON'],
    ['an array', '[{"name": "o"}]', 400, 'must be a JSON object'],
  ])('%s', async (_, body, status, message) => {
    const ns = await createNamespace(stack(), { objects: [{ name: 'keep' }] });
    const before = (await admin('GET', `/v2/metadefs/namespaces/${ns}`)).json;
    const response = await admin('POST', path(ns), body, { 'content-type': 'application/json' });
    expect(response.json).toEqual(glanceError(status, message));
    const putResponse = await admin('PUT', path(ns, 'keep'), body, { 'content-type': 'application/json' });
    expect(putResponse.status).toBe(status);
    expect((await admin('GET', `/v2/metadefs/namespaces/${ns}`)).json).toEqual(before);
  });
});
