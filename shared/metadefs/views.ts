/**
 * The JSON bodies of the metadefs API, key for key in the order Glance renders them. Absent
 * optional values are left out (Glance drops nulls); timestamps are `YYYY-MM-DDThh:mm:ssZ`.
 */
import { glanceTime } from '#shared/images/view';
import { parseTagListQuery, tagPage } from './listing.ts';
import {
  type MetadefObject,
  type MetadefTag,
  type NamespaceRecord,
  PROPERTY_DEFINITION_KEYS,
  type PropertyDefinition,
  type PropertyDefinitions,
  type ResourceTypeAssociation,
  type ResourceTypeRecord,
} from './model.ts';

export const SCHEMA_LINKS = {
  namespace: '/v2/schemas/metadefs/namespace',
  namespaces: '/v2/schemas/metadefs/namespaces',
  object: '/v2/schemas/metadefs/object',
  // Glance's object list links its schema without the leading slash; clients only display it.
  objects: 'v2/schemas/metadefs/objects',
} as const;

const NEWEST_FIRST = parseTagListQuery(new URLSearchParams());

export const namespacePath = (namespace: string): string => `/v2/metadefs/namespaces/${namespace}`;
export const objectPath = (namespace: string, object: string): string =>
  `${namespacePath(namespace)}/objects/${object}`;

/** A definition with its keys in Glance's order, optionally led by its name. */
export const propertyView = (definition: PropertyDefinition, name?: string): Record<string, unknown> => ({
  ...(name === undefined ? {} : { name }),
  ...Object.fromEntries(
    PROPERTY_DEFINITION_KEYS.filter((key) => definition[key] !== undefined).map((key) => [
      key,
      definition[key],
    ]),
  ),
});

export const propertiesView = (properties: PropertyDefinitions): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(properties).map(([name, definition]) => [name, propertyView(definition)]),
  );

export const objectView = (namespace: string, object: MetadefObject): Record<string, unknown> => ({
  name: object.name,
  required: [...object.required],
  ...(object.description === undefined ? {} : { description: object.description }),
  properties: propertiesView(object.properties),
  created_at: glanceTime(object.created_at),
  updated_at: glanceTime(object.updated_at),
  self: objectPath(namespace, object.name),
  schema: SCHEMA_LINKS.object,
});

export const tagView = (tag: MetadefTag): Record<string, unknown> => ({
  name: tag.name,
  created_at: glanceTime(tag.created_at),
  updated_at: glanceTime(tag.updated_at),
});

/** Tag lists (and tags inside a namespace) show names only, as Glance's do. */
export const tagNameView = (tag: MetadefTag): Record<string, unknown> => ({ name: tag.name });

/** An association without its timestamps (as catalog files have it). */
export const associationFields = (association: ResourceTypeAssociation): Record<string, unknown> => ({
  name: association.name,
  ...(association.prefix === undefined ? {} : { prefix: association.prefix }),
  ...(association.properties_target === undefined
    ? {}
    : { properties_target: association.properties_target }),
});

export const associationView = (association: ResourceTypeAssociation): Record<string, unknown> => ({
  ...associationFields(association),
  created_at: glanceTime(association.created_at),
  updated_at: glanceTime(association.updated_at),
});

export const resourceTypeView = (type: ResourceTypeRecord): Record<string, unknown> => ({
  name: type.name,
  created_at: glanceTime(type.created_at),
  updated_at: glanceTime(type.updated_at),
});

/** A namespace's own attributes, without timestamps (as catalog files have them). */
export const namespaceFields = (record: NamespaceRecord): Record<string, unknown> => ({
  namespace: record.namespace,
  ...(record.display_name === undefined ? {} : { display_name: record.display_name }),
  ...(record.description === undefined ? {} : { description: record.description }),
  visibility: record.visibility,
  protected: record.protected,
  owner: record.owner,
});

/**
 * A namespace: `attributes` only (update), a `summary` with its resource-type associations
 * (listings), or the `detail` of everything it holds (show, create), each part only when not empty.
 */
export const namespaceView = (
  record: NamespaceRecord,
  parts: 'attributes' | 'summary' | 'detail',
): Record<string, unknown> => {
  const nonEmpty = <T>(key: string, items: readonly T[], view: (item: T) => unknown) =>
    items.length ? { [key]: items.map(view) } : {};
  const detail = parts === 'detail';
  return {
    ...namespaceFields(record),
    created_at: glanceTime(record.created_at),
    updated_at: glanceTime(record.updated_at),
    ...(parts === 'attributes'
      ? {}
      : nonEmpty('resource_type_associations', record.resource_type_associations, associationView)),
    ...(detail && Object.keys(record.properties).length
      ? { properties: propertiesView(record.properties) }
      : {}),
    ...(detail ? nonEmpty('objects', record.objects, (object) => objectView(record.namespace, object)) : {}),
    // In the order of the tag list's default (newest first), as Glance shows them.
    ...(detail ? nonEmpty('tags', tagPage(record.tags, NEWEST_FIRST), tagNameView) : {}),
    self: namespacePath(record.namespace),
    schema: SCHEMA_LINKS.namespace,
  };
};
