/** `/v2/metadefs/namespaces` and `/v2/metadefs/namespaces/{namespace_name}`: every route, every refusal. */
import { beforeAll, describe, expect, it } from 'vitest';
import { type as, createNamespace, glanceError, metadefsSuite, uniqueName } from './helpers.ts';

const { stack, admin, member, other, roleless } = metadefsSuite();

const NS = '/v2/metadefs/namespaces';
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

const FULL = {
  display_name: 'Full',
  description: 'Everything at once',
  visibility: 'public',
  protected: false,
  resource_type_associations: [
    { name: 'OS::Nova::Flavor', prefix: 'hw:' },
    { name: 'OS::Glance::Image', properties_target: 'image' },
  ],
  properties: {
    cpu_policy: { title: 'CPU policy', type: 'string', enum: ['shared', 'dedicated'], default: 'shared' },
  },
  objects: [
    {
      name: 'Memory',
      description: 'Memory settings',
      required: ['mem_page_size'],
      properties: { mem_page_size: { title: 'Page size', type: 'string' } },
    },
  ],
  tags: [{ name: 'compute' }, { name: 'memory' }],
};

describe('POST /v2/metadefs/namespaces', () => {
  it("creates with Glance's defaults and answers 201 with Location", async () => {
    const name = uniqueName('OS::Min');
    const response = await admin('POST', NS, { namespace: name });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`${stack().url}${NS}/${encodeURIComponent(name)}`);
    expect(response.json).toEqual({
      namespace: name,
      visibility: 'private',
      protected: false,
      owner: 'p-admin',
      created_at: expect.stringMatching(TIME),
      updated_at: expect.stringMatching(TIME),
      self: `${NS}/${name}`,
      schema: '/v2/schemas/metadefs/namespace',
    });
    expect(Object.keys(response.json)[0]).toBe('namespace');
  });

  it('creates everything the body holds in one go, and the new resource types', async () => {
    const name = uniqueName('OS::Full');
    const created = await admin('POST', NS, { namespace: name, ...FULL });
    expect(created.status).toBe(201);
    const shown = await admin('GET', `${NS}/${name}`);
    expect(shown.json).toMatchObject({
      namespace: name,
      display_name: 'Full',
      description: 'Everything at once',
      properties: FULL.properties,
      tags: [{ name: 'memory' }, { name: 'compute' }],
    });
    expect(shown.json.resource_type_associations.map((a: { name: string }) => a.name)).toEqual([
      'OS::Nova::Flavor',
      'OS::Glance::Image',
    ]);
    expect(shown.json.objects[0]).toMatchObject({
      name: 'Memory',
      required: ['mem_page_size'],
      self: `${NS}/${name}/objects/Memory`,
      schema: '/v2/schemas/metadefs/object',
    });
    const types = (await member('GET', '/v2/metadefs/resource_types')).json.resource_types.map(
      (t: { name: string }) => t.name,
    );
    expect(types).toContain('OS::Nova::Flavor');
  });

  it('lets an admin give the namespace to another project', async () => {
    const name = await createNamespace(stack(), { owner: 'p-one', visibility: 'private' });
    expect((await member('GET', `${NS}/${name}`)).json.owner).toBe('p-one');
  });

  it('answers 409 for a taken name, whoever owns it', async () => {
    const name = await createNamespace(stack(), { visibility: 'private', owner: 'p-two' });
    const response = await admin('POST', NS, { namespace: name });
    expect(response.status).toBe(409);
    expect(response.json).toEqual(
      glanceError(409, `The metadata definition namespace=${name} already exists.`),
    );
  });

  it('is for admins: 403 for a member, 404 for a caller without any role (as Glance)', async () => {
    const body = { namespace: uniqueName('nope') };
    expect((await member('POST', NS, body)).json).toEqual(
      glanceError(403, 'You are not authorized to complete add_metadef_namespace action.'),
    );
    expect((await roleless('POST', NS, body)).status).toBe(404);
    expect((await admin('GET', `${NS}/${body.namespace}`)).status).toBe(404);
  });

  it.each(['self', 'schema', 'created_at', 'updated_at'])(
    'answers 403 when the body sets %s',
    async (key) => {
      const response = await admin('POST', NS, { namespace: uniqueName('ro'), [key]: 'x' });
      expect(response.json).toEqual(glanceError(403, `Attribute '${key}' is read-only.`));
    },
  );
});

describe('GET /v2/metadefs/namespaces', () => {
  let mine: string;
  let theirs: string;
  let open: string;

  beforeAll(async () => {
    mine = await createNamespace(stack(), { owner: 'p-one', visibility: 'private' }, 'list-mine');
    theirs = await createNamespace(stack(), { owner: 'p-two', visibility: 'private' }, 'list-theirs');
    open = await createNamespace(
      stack(),
      { owner: 'p-two', resource_type_associations: [{ name: 'OS::List::Only' }] },
      'list-open',
    );
  });

  const names = async (call: ReturnType<typeof as>, query = '') =>
    (await call('GET', `${NS}?limit=1000${query}`)).json.namespaces.map(
      (n: { namespace: string }) => n.namespace,
    );

  it("shows public namespaces and the caller's project's, all of them to admins", async () => {
    const seenByMember = await names(member);
    expect(seenByMember).toEqual(expect.arrayContaining([mine, open, 'ServerlessGlance::Hypervisor']));
    expect(seenByMember).not.toContain(theirs);
    expect(await names(other)).toEqual(expect.arrayContaining([theirs, open]));
    expect(await names(other)).not.toContain(mine);
    expect(await names(admin)).toEqual(expect.arrayContaining([mine, theirs, open]));
  });

  it('filters by visibility and by resource type', async () => {
    const privateOnes = await names(admin, '&visibility=private');
    expect(privateOnes).toEqual(expect.arrayContaining([mine, theirs]));
    expect(privateOnes).not.toContain(open);
    expect(await names(member, '&resource_types=OS::List::Only')).toEqual([open]);
    expect(await names(member, '&resource_types=OS::Unknown')).toEqual([]);
  });

  it('renders summaries with their associations, the first link and the schema', async () => {
    const response = await member('GET', `${NS}?resource_types=OS::List::Only`);
    expect(response.json).toEqual({
      namespaces: [
        expect.objectContaining({ namespace: open, resource_type_associations: [expect.anything()] }),
      ],
      schema: '/v2/schemas/metadefs/namespaces',
      first: '/v2/metadefs/namespaces?resource_types=OS%3A%3AList%3A%3AOnly',
    });
    expect(response.json.namespaces[0].properties).toBeUndefined();
  });

  it('pages with limit and marker, following next links to the end', async () => {
    const all = await names(admin, '&sort_key=namespace&sort_dir=asc');
    expect(all).toEqual([...all].sort());
    const seen: string[] = [];
    let path: string | undefined = `${NS}?limit=2&sort_key=namespace&sort_dir=asc`;
    while (path) {
      const page: { json: { namespaces: { namespace: string }[]; next?: string } } = await admin('GET', path);
      seen.push(...page.json.namespaces.map((n) => n.namespace));
      path = page.json.next;
    }
    expect(seen).toEqual(all);
  });

  it('lists 25 by default, newest first', async () => {
    const page = (await admin('GET', NS)).json;
    expect(page.namespaces.length).toBeLessThanOrEqual(25);
    const times = page.namespaces.map((n: { created_at: string }) => n.created_at);
    expect(times).toEqual([...times].sort().reverse());
  });

  it.each([
    ['limit=x', 400, 'limit param must be an integer'],
    ['limit=-3', 400, 'limit param must be positive'],
    ['sort_dir=sideways', 400, 'Invalid sort direction: sideways'],
    ['sort_key=colour', 400, 'Invalid sort key: colour'],
    ['visibility=community', 400, 'Invalid visibility value: community'],
    ['marker=no-such-namespace', 404, 'Metadata definition namespace=no-such-namespace was not found.'],
  ])('refuses %s with %i', async (query, status, message) => {
    const response = await member('GET', `${NS}?${query}`);
    expect(response.json).toEqual(glanceError(status, message));
  });

  it("does not take another project's private namespace as a marker (404)", async () => {
    expect((await member('GET', `${NS}?marker=${theirs}`)).status).toBe(404);
  });

  it('is 404 for a caller without any role, as in Glance', async () => {
    expect((await roleless('GET', NS)).status).toBe(404);
  });
});

describe('GET /v2/metadefs/namespaces/{namespace_name}', () => {
  it('shows everything, prefixed for a resource type with ?resource_type', async () => {
    const name = await createNamespace(stack(), FULL);
    const plain = (await member('GET', `${NS}/${name}`)).json;
    expect(Object.keys(plain.properties)).toEqual(['cpu_policy']);
    const flavor = (await member('GET', `${NS}/${name}?resource_type=OS::Nova::Flavor`)).json;
    expect(Object.keys(flavor.properties)).toEqual(['hw:cpu_policy']);
    expect(Object.keys(flavor.objects[0].properties)).toEqual(['hw:mem_page_size']);
    expect(flavor.objects[0].required).toEqual(['hw:mem_page_size']);
    const image = (await member('GET', `${NS}/${name}?resource_type=OS::Glance::Image`)).json;
    expect(Object.keys(image.properties)).toEqual(['cpu_policy']);
  });

  it('answers the same 404 for unknown names and for private namespaces of other projects', async () => {
    const hidden = await createNamespace(stack(), { visibility: 'private', owner: 'p-two' });
    const unknown = await member('GET', `${NS}/${hidden}-not`);
    const invisible = await member('GET', `${NS}/${hidden}`);
    expect(invisible.status).toBe(404);
    expect(invisible.json.error.message).toBe(unknown.json.error.message.replace(`${hidden}-not`, hidden));
    expect((await roleless('GET', `${NS}/ServerlessGlance::Hypervisor`)).status).toBe(404);
  });

  it('refuses an invalid visibility parameter, as Glance does on show', async () => {
    expect((await member('GET', `${NS}/ServerlessGlance::Hypervisor?visibility=x`)).status).toBe(400);
  });
});

describe('PUT /v2/metadefs/namespaces/{namespace_name}', () => {
  it('replaces the attributes and keeps what the namespace holds', async () => {
    const name = await createNamespace(stack(), FULL);
    const response = await admin('PUT', `${NS}/${name}`, { namespace: name, protected: true });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      namespace: name,
      visibility: 'private',
      protected: true,
      owner: 'p-admin',
      created_at: expect.stringMatching(TIME),
      updated_at: expect.stringMatching(TIME),
      self: `${NS}/${name}`,
      schema: '/v2/schemas/metadefs/namespace',
    });
    const shown = (await admin('GET', `${NS}/${name}`)).json;
    expect(shown.display_name).toBeUndefined();
    expect(Object.keys(shown.properties)).toEqual(['cpu_policy']);
    expect(shown.tags).toHaveLength(2);
  });

  it('renames: the content moves with it, the old name is gone', async () => {
    const name = await createNamespace(stack(), FULL);
    const renamed = uniqueName('renamed');
    const response = await admin('PUT', `${NS}/${name}`, { namespace: renamed, visibility: 'public' });
    expect(response.json.namespace).toBe(renamed);
    expect((await admin('GET', `${NS}/${name}`)).status).toBe(404);
    expect((await admin('GET', `${NS}/${renamed}/objects/Memory`)).status).toBe(200);
  });

  it('answers 409 when renaming onto a taken name, and changes nothing', async () => {
    const first = await createNamespace(stack(), FULL);
    const second = await createNamespace(stack());
    const before = await admin('GET', `${NS}/${first}`);
    const response = await admin('PUT', `${NS}/${first}`, { namespace: second });
    expect(response.json).toEqual(
      glanceError(
        409,
        `Invalid update. It would result in a duplicate metadata definition namespace with the same name of ${second}`,
      ),
    );
    expect((await admin('GET', `${NS}/${first}`)).json).toEqual(before.json);
    expect((await admin('GET', `${NS}/${second}`)).json.properties).toBeUndefined();
  });

  it("accepts python-glanceclient's update body: the whole namespace as shown", async () => {
    const name = await createNamespace(stack(), FULL);
    const {
      self: _,
      schema: __,
      created_at: ___,
      updated_at: ____,
      ...shown
    } = (await admin('GET', `${NS}/${name}`)).json;
    const response = await admin('PUT', `${NS}/${name}`, { ...shown, description: 'changed' });
    expect(response.status).toBe(200);
    expect(response.json.description).toBe('changed');
  });

  it('is for admins (403), hides what the caller cannot see (404), and needs the name (400)', async () => {
    const name = await createNamespace(stack(), { visibility: 'private', owner: 'p-one' });
    expect((await member('PUT', `${NS}/${name}`, { namespace: name })).json).toEqual(
      glanceError(403, 'You are not authorized to complete modify_metadef_namespace action.'),
    );
    expect((await other('PUT', `${NS}/${name}`, { namespace: name })).json).toEqual(
      glanceError(404, `Namespace ${name} not found`),
    );
    expect((await admin('PUT', `${NS}/${name}`, { visibility: 'public' })).json).toEqual(
      glanceError(400, "'namespace' is a required property"),
    );
    expect((await admin('PUT', `${NS}/missing-${name}`, { namespace: 'x' })).status).toBe(404);
  });
});

describe('DELETE /v2/metadefs/namespaces/{namespace_name}', () => {
  it('refuses while protected (403), then deletes with everything it holds', async () => {
    const name = await createNamespace(stack(), { ...FULL, protected: true });
    expect((await admin('DELETE', `${NS}/${name}`)).json).toEqual(
      glanceError(403, `Metadata definition namespace ${name} is protected and cannot be deleted.`),
    );
    await admin('PUT', `${NS}/${name}`, { namespace: name, protected: false });
    const response = await admin('DELETE', `${NS}/${name}`);
    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expect((await admin('GET', `${NS}/${name}`)).status).toBe(404);
    await createNamespace(stack(), { namespace: name });
    const again = (await admin('GET', `${NS}/${name}`)).json;
    expect(again.properties).toBeUndefined();
    expect(again.objects).toBeUndefined();
  });

  it('is for admins, and 404 for unknown or invisible namespaces', async () => {
    const name = await createNamespace(stack(), { visibility: 'private', owner: 'p-one' });
    expect((await member('DELETE', `${NS}/${name}`)).status).toBe(403);
    expect((await other('DELETE', `${NS}/${name}`)).status).toBe(404);
    expect((await admin('DELETE', `${NS}/${name}-gone`)).status).toBe(404);
    expect((await admin('GET', `${NS}/${name}`)).status).toBe(200);
  });
});

describe('other methods', () => {
  it('answers 405 with Allow on the namespace paths', async () => {
    const collection = await admin('PATCH', NS, {});
    expect(collection.status).toBe(405);
    expect(collection.headers.get('allow')).toBe('GET, POST');
    const one = await admin('POST', `${NS}/ServerlessGlance::Hypervisor`, {});
    expect(one.headers.get('allow')).toBe('GET, PUT, DELETE');
  });
});
