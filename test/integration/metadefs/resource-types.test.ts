/** `/v2/metadefs/resource_types` and `/v2/metadefs/namespaces/{namespace_name}/resource_types[/{name}]`. */
import { describe, expect, it } from 'vitest';
import { createNamespace, glanceError, metadefsSuite, uniqueName } from './helpers.ts';

const { stack, admin, member, other, roleless } = metadefsSuite();

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const path = (namespace: string, type = '') =>
  `/v2/metadefs/namespaces/${namespace}/resource_types${type ? `/${type}` : ''}`;
const typeNames = async () =>
  (await member('GET', '/v2/metadefs/resource_types')).json.resource_types.map(
    (t: { name: string }) => t.name,
  );

describe('GET /v2/metadefs/resource_types', () => {
  it('lists the starter catalog types by name, with timestamps', async () => {
    const response = await member('GET', '/v2/metadefs/resource_types');
    expect(response.json.resource_types.slice(0, 2)).toEqual([
      {
        name: 'OS::Cinder::Volume',
        created_at: expect.stringMatching(TIME),
        updated_at: expect.stringMatching(TIME),
      },
      {
        name: 'OS::Glance::Image',
        created_at: expect.stringMatching(TIME),
        updated_at: expect.stringMatching(TIME),
      },
    ]);
  });

  it('is 404 for a caller without any role, as in Glance', async () => {
    expect((await roleless('GET', '/v2/metadefs/resource_types')).status).toBe(404);
  });
});

describe('associations', () => {
  it('associates (201), lists and dissociates (204)', async () => {
    const ns = await createNamespace(stack());
    const created = await admin('POST', path(ns), {
      name: 'OS::Nova::Flavor',
      prefix: 'hw:',
      properties_target: 'extra',
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      name: 'OS::Nova::Flavor',
      prefix: 'hw:',
      properties_target: 'extra',
      created_at: expect.stringMatching(TIME),
      updated_at: expect.stringMatching(TIME),
    });
    expect((await member('GET', path(ns))).json).toEqual({ resource_type_associations: [created.json] });
    expect((await admin('DELETE', path(ns, 'OS::Nova::Flavor'))).status).toBe(204);
    expect((await member('GET', path(ns))).json).toEqual({ resource_type_associations: [] });
  });

  it('creates an unknown resource type with its first association, as Glance documents', async () => {
    const type = uniqueName('OS::New::Type');
    const ns = await createNamespace(stack());
    expect(await typeNames()).not.toContain(type);
    expect((await admin('POST', path(ns), { name: type })).status).toBe(201);
    expect(await typeNames()).toContain(type);
  });

  it('answers 409 for an association that exists', async () => {
    const ns = await createNamespace(stack(), {
      resource_type_associations: [{ name: 'OS::Glance::Image' }],
    });
    expect((await admin('POST', path(ns), { name: 'OS::Glance::Image' })).json).toEqual(
      glanceError(
        409,
        `The metadata definition resource-type association of resource-type=OS::Glance::Image to namespace=${ns} already exists.`,
      ),
    );
  });

  it('answers 404 when dissociating a type that is not associated, 403 in a protected namespace', async () => {
    const ns = await createNamespace(stack(), {
      protected: true,
      resource_type_associations: [{ name: 'OS::Glance::Image' }],
    });
    expect((await admin('DELETE', path(ns, 'OS::Nova::Server'))).json).toEqual(
      glanceError(404, 'Failed to find resource type OS::Nova::Server to delete'),
    );
    expect((await admin('DELETE', path(ns, 'OS::Glance::Image'))).json).toEqual(
      glanceError(
        403,
        'Metadata definition resource-type-association OS::Glance::Image is protected and cannot be deleted.',
      ),
    );
  });

  it('is for admins to change; private namespaces of others are 404', async () => {
    const ns = await createNamespace(stack(), { visibility: 'private', owner: 'p-one' });
    expect((await member('GET', path(ns))).status).toBe(200);
    expect((await member('POST', path(ns), { name: 'OS::Glance::Image' })).json).toEqual(
      glanceError(403, 'You are not authorized to complete add_metadef_resource_type_association action.'),
    );
    expect((await member('DELETE', path(ns, 'OS::Glance::Image'))).status).toBe(403);
    expect((await other('GET', path(ns))).json).toEqual(glanceError(404, `Namespace ${ns} not found`));
    expect((await other('POST', path(ns), { name: 'OS::Glance::Image' })).status).toBe(404);
  });

  it.each<[string, unknown, number, string]>([
    ['no name', { prefix: 'hw:' }, 400, "'name' is a required property"],
    ['a name over 80 characters', { name: `OS::${'x'.repeat(80)}` }, 400, 'is too long'],
    [
      'a prefix over 80 characters',
      { name: 'OS::Glance::Image', prefix: 'p'.repeat(81) },
      400,
      'is too long',
    ],
    ['a wrong type', { name: 'OS::Glance::Image', prefix: 1 }, 400, "1 is not of type 'string'"],
    ['an unknown key', { name: 'OS::Glance::Image', colour: 'red' }, 400, "('colour' was unexpected)"],
    [
      'updated_at',
      { name: 'OS::Glance::Image', updated_at: 'now' },
      403,
      "Attribute 'updated_at' is read-only.",
    ],
  ])('refuses %s: no association, no new type', async (_, body, status, message) => {
    const ns = await createNamespace(stack());
    const typesBefore = await typeNames();
    expect((await admin('POST', path(ns), body)).json).toEqual(glanceError(status, message));
    expect((await admin('GET', path(ns))).json.resource_type_associations).toEqual([]);
    expect(await typeNames()).toEqual(typesBefore);
  });

  it('writes no resource type when the namespace refuses the association', async () => {
    const type = uniqueName('OS::Refused');
    const ns = await createNamespace(stack(), { visibility: 'private', owner: 'p-one' });
    expect((await member('POST', path(ns), { name: type })).status).toBe(403);
    expect((await admin('POST', path(`${ns}-missing`), { name: type })).status).toBe(404);
    expect(
      (
        await admin('POST', '/v2/metadefs/namespaces', {
          namespace: ns,
          resource_type_associations: [{ name: type }],
        })
      ).status,
    ).toBe(409);
    expect(await typeNames()).not.toContain(type);
  });
});
