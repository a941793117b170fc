import { describe, expect, it } from 'vitest';
import { METADEF_SCHEMA_NAMES, metadefSchemaDocument } from '#shared/metadefs/schemas';

describe('metadefSchemaDocument', () => {
  it('serves the ten schemas under the names tempest asserts', () => {
    const names = Object.fromEntries(
      METADEF_SCHEMA_NAMES.map((name) => [name, (metadefSchemaDocument(name) as { name: string }).name]),
    );
    expect(names).toEqual({
      namespace: 'namespace',
      namespaces: 'namespaces',
      resource_type: 'resource_type_association',
      resource_types: 'resource_type_associations',
      property: 'property',
      properties: 'properties',
      object: 'object',
      objects: 'objects',
      tag: 'tag',
      tags: 'tags',
    });
  });

  it.each(['', 'image', 'constructor', '__proto__', 'toString', 'namespace/', 'NAMESPACE'])(
    'has no document named %j',
    (name) => {
      expect(metadefSchemaDocument(name)).toBeUndefined();
    },
  );

  it('returns a fresh copy each time', () => {
    const first = metadefSchemaDocument('namespace') as Record<string, unknown>;
    first.name = 'changed';
    expect(metadefSchemaDocument('namespace')?.name).toBe('namespace');
  });

  it("limits names to Glance's 80 characters and requires what Glance's model requires", () => {
    const namespace = metadefSchemaDocument('namespace') as {
      properties: Record<string, { maxLength?: number }>;
    };
    expect(namespace.properties.namespace?.maxLength).toBe(80);
    expect(namespace.properties.description?.maxLength).toBe(500);
    expect(namespace.properties.owner?.maxLength).toBe(255);
    expect(metadefSchemaDocument('namespace')?.required).toEqual(['namespace']);
    expect(metadefSchemaDocument('property')?.required).toEqual(['type', 'title', 'name']);
    expect(metadefSchemaDocument('object')?.required).toEqual(['name']);
    expect(metadefSchemaDocument('tag')?.required).toEqual(['name']);
    expect(metadefSchemaDocument('resource_type')?.required).toEqual(['name']);
  });

  it('moves item definitions to the top of collections, and properties is a map', () => {
    const objects = metadefSchemaDocument('objects') as {
      definitions: object;
      properties: { objects: { items: Record<string, unknown> } };
    };
    expect(objects.definitions).toBeDefined();
    expect(objects.properties.objects.items.definitions).toBeUndefined();
    const properties = metadefSchemaDocument('properties') as {
      properties: { properties: { type: string; additionalProperties: { required: string[] } } };
    };
    expect(properties.properties.properties.type).toBe('object');
    expect(properties.properties.properties.additionalProperties.required).toEqual(['type', 'title']);
  });
});
