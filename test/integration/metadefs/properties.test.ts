/** `/v2/metadefs/namespaces/{namespace_name}/properties[/{property_name}]`. */
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, glanceError, metadefsSuite } from './helpers.ts';

const { stack, admin, member, other } = metadefsSuite();

const path = (namespace: string, property = '') =>
  `/v2/metadefs/namespaces/${namespace}/properties${property ? `/${property}` : ''}`;
const HW = { name: 'hw_rng_model', title: 'RNG model', type: 'string', enum: ['virtio'], default: 'virtio' };

describe('properties', () => {
  it('creates (201), lists, shows, updates and deletes', async () => {
    const ns = await createNamespace(stack());
    const created = await admin('POST', path(ns), HW);
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      name: 'hw_rng_model',
      type: 'string',
      title: 'RNG model',
      default: 'virtio',
      enum: ['virtio'],
    });
    expect(Object.keys(created.json)).toEqual(['name', 'type', 'title', 'default', 'enum']);
    expect((await member('GET', path(ns))).json).toEqual({
      properties: {
        hw_rng_model: { type: 'string', title: 'RNG model', default: 'virtio', enum: ['virtio'] },
      },
    });
    expect((await member('GET', path(ns, 'hw_rng_model'))).json).toEqual(created.json);
    const updated = await admin('PUT', path(ns, 'hw_rng_model'), {
      name: 'hw_rng_model',
      title: 'RNG',
      type: 'string',
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toEqual({ name: 'hw_rng_model', type: 'string', title: 'RNG' });
    expect((await admin('DELETE', path(ns, 'hw_rng_model'))).status).toBe(204);
    expect((await member('GET', path(ns))).json).toEqual({ properties: {} });
  });

  it('renames with PUT, 409 onto a taken name', async () => {
    const ns = await createNamespace(stack(), {
      properties: { a: { title: 'A', type: 'string' }, b: { title: 'B', type: 'string' } },
    });
    expect((await admin('PUT', path(ns, 'a'), { name: 'c', title: 'C', type: 'integer' })).status).toBe(200);
    expect(Object.keys((await admin('GET', path(ns))).json.properties)).toEqual(['c', 'b']);
    expect((await admin('PUT', path(ns, 'c'), { name: 'b', title: 'B', type: 'string' })).json).toEqual(
      glanceError(
        409,
        `Invalid update. It would result in a duplicate metadata definition property with the same name=b in namespace=${ns}.`,
      ),
    );
  });

  it('answers 409 for a duplicate, 404 for an unknown property or namespace', async () => {
    const ns = await createNamespace(stack());
    await admin('POST', path(ns), HW);
    expect((await admin('POST', path(ns), HW)).json).toEqual(
      glanceError(
        409,
        `A metadata definition property with name=hw_rng_model already exists in namespace=${ns}.`,
      ),
    );
    expect((await member('GET', path(ns, 'nope'))).json).toEqual(
      glanceError(404, 'Could not find property nope'),
    );
    expect((await admin('PUT', path(ns, 'nope'), HW)).status).toBe(404);
    expect((await admin('DELETE', path(ns, 'nope'))).status).toBe(404);
    expect((await member('GET', path(`${ns}-missing`))).json).toEqual(
      glanceError(404, `Namespace ${ns}-missing not found`),
    );
  });

  it('is for admins to change (403), and invisible namespaces are 404', async () => {
    const ns = await createNamespace(stack(), {
      visibility: 'private',
      owner: 'p-one',
      properties: { p: { title: 'P', type: 'string' } },
    });
    expect((await member('POST', path(ns), HW)).json).toEqual(
      glanceError(403, 'You are not authorized to complete add_metadef_property action.'),
    );
    expect((await member('PUT', path(ns, 'p'), HW)).status).toBe(403);
    expect((await member('DELETE', path(ns, 'p'))).status).toBe(403);
    expect((await member('DELETE', path(ns))).status).toBe(403);
    for (const [method, target] of [
      ['GET', path(ns)],
      ['GET', path(ns, 'p')],
      ['POST', path(ns)],
      ['DELETE', path(ns, 'p')],
    ] as const) {
      expect((await other(method, target, method === 'POST' ? HW : undefined)).status).toBe(404);
    }
  });

  it('refuses deletes while the namespace is protected (403), one or all', async () => {
    const ns = await createNamespace(stack(), {
      protected: true,
      properties: { p: { title: 'P', type: 'string' } },
    });
    expect((await admin('DELETE', path(ns, 'p'))).json).toEqual(
      glanceError(403, 'Metadata definition property p is protected and cannot be deleted.'),
    );
    expect((await admin('DELETE', path(ns))).json).toEqual(
      glanceError(403, `Metadata definition namespace ${ns} is protected and cannot be deleted.`),
    );
    expect((await admin('POST', path(ns), HW)).status).toBe(201);
  });

  it('deletes all properties at once', async () => {
    const ns = await createNamespace(stack(), {
      properties: { a: { title: 'A', type: 'string' }, b: { title: 'B', type: 'string' } },
    });
    expect((await admin('DELETE', path(ns))).status).toBe(204);
    expect((await admin('GET', path(ns))).json.properties).toEqual({});
  });

  it('treats __proto__ and constructor as names like any other', async () => {
    const ns = await createNamespace(stack());
    for (const name of ['__proto__', 'constructor']) {
      expect((await admin('POST', path(ns), { ...HW, name })).status).toBe(201);
      expect((await admin('GET', path(ns, name))).json.name).toBe(name);
    }
    expect(Object.keys((await admin('GET', path(ns))).json.properties)).toEqual(['__proto__', 'constructor']);
  });
});

describe('GET ...properties/{property_name}?resource_type=', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await createNamespace(stack(), {
      resource_type_associations: [
        { name: 'OS::Nova::Flavor', prefix: 'hw:' },
        { name: 'OS::Glance::Image' },
      ],
      properties: { cpu_policy: { title: 'CPU policy', type: 'string' } },
    });
  });

  it('finds a property by its prefixed name', async () => {
    const response = await member('GET', `${path(ns, 'hw:cpu_policy')}?resource_type=OS::Nova::Flavor`);
    expect(response.json).toEqual({ name: 'cpu_policy', type: 'string', title: 'CPU policy' });
  });

  it.each([
    [
      'cpu_policy',
      'OS::Nova::Flavor',
      "Property cpu_policy does not start with the expected resource type association prefix of 'hw:'.",
    ],
    ['cpu_policy', 'OS::Glance::Image', "expected resource type association prefix of 'None'."],
    [
      'hw:cpu_policy',
      'OS::No::Such::Type',
      'The metadata definition resource-type with name=OS::No::Such::Type, was not found.',
    ],
    [
      'hw:cpu_policy',
      'OS::Cinder::Volume',
      `resource-type=OS::Cinder::Volume to namespace=${'NS'}, was not found.`,
    ],
  ])('answers 404 for %s with %s', async (name, type, message) => {
    const response = await member('GET', `${path(ns, name)}?resource_type=${type}`);
    expect(response.json).toEqual(glanceError(404, message.replace('NS', ns)));
  });
});

describe('bad property bodies: 4xx, nothing written', () => {
  it.each<[string, unknown, number, string]>([
    ['no name', { title: 'T', type: 'string' }, 400, "'name' is a required property"],
    ['a name over 80 characters', { ...HW, name: 'p'.repeat(81) }, 400, 'is too long'],
    ['an empty name', { ...HW, name: '' }, 400, 'must not be empty'],
    ['no title', { name: 'p', type: 'string' }, 400, "'title' is a required property"],
    ['a wrong type for title', { name: 'p', title: 5, type: 'string' }, 400, "5 is not of type 'string'"],
    ['an unknown type', { name: 'p', title: 'T', type: 'date' }, 400, "'date' is not one of"],
    ['an unknown key', { ...HW, colour: 'red' }, 400, "('colour' was unexpected)"],
    [
      'a non-string enum',
      { name: 'p', title: 'T', type: 'integer', enum: [1] },
      400,
      "Invalid property definition 'p'",
    ],
    [
      'a pattern that does not compile',
      { name: 'p', title: 'T', type: 'string', pattern: '(' },
      400,
      'not a valid regular expression',
    ],
    [
      'minimum over maximum',
      { name: 'p', title: 'T', type: 'number', minimum: 2, maximum: 1 },
      400,
      'is greater than maximum',
    ],
    ['a read-only attribute', { ...HW, created_at: 'now' }, 403, "Attribute 'created_at' is read-only."],
    [
      'a definition over the namespace budget',
      { ...HW, description: 'd'.repeat(400_000) },
      413,
      'at most 358400 are allowed',
    ],
  ])('%s', async (_, body, status, message) => {
    const ns = await createNamespace(stack(), { properties: { keep: { title: 'K', type: 'string' } } });
    const before = (await admin('GET', `/v2/metadefs/namespaces/${ns}`)).json;
    const response = await admin('POST', path(ns), body);
    expect(response.json).toEqual(glanceError(status, message));
    expect((await admin('GET', `/v2/metadefs/namespaces/${ns}`)).json).toEqual(before);
  });
});
