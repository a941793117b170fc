/**
 * The requests of the 18 tempest metadefs tests that Glance 25.1 passes
 * (tempest/api/image/v2/admin/test_images_metadefs_*.py and test_images_metadefs_schema.py), as
 * tempest's clients send them: same paths (names unencoded), bodies, expected status codes and
 * the fields the tests assert, against the local stack with the starter catalog of `npm start`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MetadefsStack, startMetadefsStack, uniqueName } from './helpers.ts';

let stack: MetadefsStack;
beforeAll(async () => {
  stack = await startMetadefsStack();
});
afterAll(() => stack.stop());

/** tempest's rest_client: JSON in and out, and `expected_success`. */
const call = async (method: string, path: string, expected: number, body?: unknown) => {
  const response = await stack.api(method, `/v2/${path}`, {
    token: stack.admin,
    ...(body === undefined ? {} : { body }),
    headers: { accept: 'application/json' },
  });
  expect(response.status, `${method} ${path}: ${response.text}`).toBe(expected);
  return response.json;
};

/** tempest's `BaseV2ImageTest.create_namespace`. */
const createNamespace = async () => {
  const name = uniqueName('test-ns');
  return call('POST', 'metadefs/namespaces', 201, {
    namespace: name,
    visibility: 'public',
    description: 'Tempest',
    protected: false,
    display_name: name,
  });
};

const firstResourceType = async (): Promise<string> =>
  (await call('GET', 'metadefs/resource_types', 200)).resource_types[0].name;

describe('test_images_metadefs_schema', () => {
  it.each([
    ['namespace', 'namespace'],
    ['namespaces', 'namespaces'],
    ['resource_type', 'resource_type_association'],
    ['resource_types', 'resource_type_associations'],
    ['object', 'object'],
    ['objects', 'objects'],
    ['property', 'property'],
    ['properties', 'properties'],
    ['tag', 'tag'],
    ['tags', 'tags'],
  ])('schemas/metadefs/%s is named %s', async (schema, name) => {
    const response = await stack.api('GET', `/v2/schemas/metadefs/${schema}`, { token: stack.member });
    expect(response.status).toBe(200);
    expect(response.json.name).toBe(name);
  });
});

describe('test_images_metadefs_namespaces', () => {
  it('test_basic_metadata_definition_namespaces', async () => {
    const resourceName = await firstResourceType();
    const name = uniqueName('namespace');
    await call('POST', 'metadefs/namespaces', 201, {
      namespace: name,
      visibility: 'public',
      description: 'Tempest',
      display_name: name,
      resource_type_associations: [{ name: resourceName }],
      protected: true,
    });
    const listed = (await call('GET', 'metadefs/namespaces', 200)).namespaces.map(
      (namespace: { namespace: string }) => namespace.namespace,
    );
    expect(listed).toContain(name);
    const shown = await call('GET', `metadefs/namespaces/${name}`, 200);
    expect(shown.namespace).toBe(name);
    expect(shown.visibility).toBe('public');
    await call('DELETE', `metadefs/namespaces/${name}`, 403);
    const updated = await call('PUT', `metadefs/namespaces/${name}`, 200, {
      namespace: name,
      description: 'Tempest',
      visibility: 'private',
      display_name: name,
      protected: false,
    });
    expect(updated.visibility).toBe('private');
    expect(updated.protected).toBe(false);
    await call('DELETE', `metadefs/namespaces/${name}`, 204);
    // wait_for_resource_deletion: the show answers 404.
    await call('GET', `metadefs/namespaces/${name}`, 404);
  });
});

describe('test_images_metadefs_resource_types', () => {
  it('test_basic_meta_def_resource_type_association', async () => {
    const resourceName = await firstResourceType();
    const namespace = await createNamespace();
    const path = `metadefs/namespaces/${namespace.namespace}/resource_types`;
    const created = await call('POST', path, 201, { name: resourceName });
    expect(created.name).toBe(resourceName);
    const names = async () =>
      (await call('GET', path, 200)).resource_type_associations.map(
        (association: { name: string }) => association.name,
      );
    expect(await names()).toContain(resourceName);
    await call('DELETE', `${path}/${resourceName}`, 204);
    expect(await names()).not.toContain(resourceName);
    await call('DELETE', `metadefs/namespaces/${namespace.namespace}`, 204);
  });
});

describe('test_images_metadefs_namespace_properties', () => {
  it('test_basic_meta_def_namespace_property', async () => {
    const resourceName = await firstResourceType();
    const enumValues = ['xen', 'qemu', 'kvm', 'lxc', 'uml', 'vmware', 'hyperv'];
    const namespace = await createNamespace();
    const base = `metadefs/namespaces/${namespace.namespace}`;
    await call('POST', `${base}/resource_types`, 201, { name: resourceName });
    const title = uniqueName('property');
    const created = await call('POST', `${base}/properties`, 201, {
      title,
      name: resourceName,
      type: 'string',
      enum: enumValues,
    });
    expect(created.title).toBe(title);
    expect((await call('GET', `${base}/properties/${resourceName}`, 200)).name).toBe(resourceName);
    const newTitle = uniqueName('update-property');
    const updated = await call('PUT', `${base}/properties/${resourceName}`, 200, {
      title: newTitle,
      type: 'string',
      enum: enumValues,
      name: resourceName,
    });
    expect(updated.title).toBe(newTitle);
    await call('DELETE', `${base}/properties/${resourceName}`, 204);
    const titles = Object.values((await call('GET', `${base}/properties`, 200)).properties).map(
      (property) => (property as { title: string }).title,
    );
    expect(titles).not.toContain(newTitle);
    await call('DELETE', base, 204);
  });
});

describe('test_images_metadefs_namespace_objects', () => {
  const createObject = async (namespace: string) =>
    call('POST', `metadefs/namespaces/${namespace}/objects`, 201, {
      name: uniqueName('MetadataNamespaceObjectsTest-object'),
    });
  const objectNames = async (namespace: string) =>
    (await call('GET', `metadefs/namespaces/${namespace}/objects`, 200)).objects.map(
      (object: { name: string }) => object.name,
    );

  it('test_create_update_delete_meta_namespace_objects', async () => {
    const namespace = await createNamespace();
    const created = await createObject(namespace.namespace);
    const newName = uniqueName('update-object');
    const updated = await call(
      'PUT',
      `metadefs/namespaces/${namespace.namespace}/objects/${created.name}`,
      200,
      {
        name: newName,
      },
    );
    expect(updated.name).toBe(newName);
    await call('DELETE', `metadefs/namespaces/${namespace.namespace}/objects/${newName}`, 204);
    expect(await objectNames(namespace.namespace)).not.toContain(newName);
    // The test's cleanup of the old name is call_and_ignore_notfound_exc: a 404.
    await call('DELETE', `metadefs/namespaces/${namespace.namespace}/objects/${created.name}`, 404);
    await call('DELETE', `metadefs/namespaces/${namespace.namespace}`, 204);
  });

  it('test_list_meta_namespace_objects', async () => {
    const namespace = await createNamespace();
    const created = await createObject(namespace.namespace);
    expect(await objectNames(namespace.namespace)).toContain(created.name);
    await call('DELETE', `metadefs/namespaces/${namespace.namespace}/objects/${created.name}`, 204);
    await call('DELETE', `metadefs/namespaces/${namespace.namespace}`, 204);
  });

  it('test_show_meta_namespace_objects', async () => {
    const namespace = await createNamespace();
    const created = await createObject(namespace.namespace);
    const shown = await call(
      'GET',
      `metadefs/namespaces/${namespace.namespace}/objects/${created.name}`,
      200,
    );
    expect(shown.name).toBe(created.name);
    await call('DELETE', `metadefs/namespaces/${namespace.namespace}`, 204);
  });
});

describe('test_images_metadefs_namespace_tags', () => {
  const tags = [{ name: 'sample-tag1' }, { name: 'sample-tag2' }, { name: 'sample-tag3' }];
  const tagList = ['sample-tag1', 'sample-tag2', 'sample-tag3'];

  it('test_create_list_delete_namespace_tags', async () => {
    const namespace = await createNamespace();
    const base = `metadefs/namespaces/${namespace.namespace}/tags`;
    await call('POST', base, 201, { tags });
    const listed = (await call('GET', base, 200)).tags;
    expect(listed).toHaveLength(3);
    for (const tag of listed) expect(tagList).toContain(tag.name);
    await call('DELETE', base, 204);
    expect((await call('GET', base, 200)).tags).toEqual([]);
    await call('DELETE', `metadefs/namespaces/${namespace.namespace}`, 204);
  });

  it('test_create_update_delete_tag', async () => {
    const namespace = await createNamespace();
    const base = `metadefs/namespaces/${namespace.namespace}/tags`;
    await call('POST', base, 201, { tags });
    const tagName = uniqueName('tag_name');
    await call('POST', `${base}/${tagName}`, 201);
    expect((await call('GET', `${base}/${tagName}`, 200)).name).toBe(tagName);
    const newName = uniqueName('update-tag');
    expect((await call('PUT', `${base}/${tagName}`, 200, { name: newName })).name).toBe(newName);
    await call('DELETE', `${base}/${newName}`, 204);
    const names = (await call('GET', base, 200)).tags.map((tag: { name: string }) => tag.name);
    expect(names).not.toContain(newName);
    await call('DELETE', base, 204);
    await call('DELETE', `metadefs/namespaces/${namespace.namespace}`, 204);
  });
});
