/**
 * Every change to a namespace as a pure function: the record as read in, the record to write out,
 * or a Glance error (404 unknown, 409 duplicate, 403 protected). The repository writes the result
 * conditionally on the version read, so these rules see exactly what they change.
 */
import { randomUUID } from 'node:crypto';
import { Conflict, Forbidden, NotFound } from '#shared/errors';
import {
  type MetadefObject,
  type MetadefTag,
  type NamespaceRecord,
  type NamespaceVisibility,
  ownValue,
  type PropertyDefinition,
  type PropertyDefinitions,
  type ResourceTypeAssociation,
  tagKey,
} from './model.ts';

export interface ObjectInput {
  readonly name: string;
  readonly description?: string;
  readonly required: readonly string[];
  readonly properties: PropertyDefinitions;
}

export interface AssociationInput {
  readonly name: string;
  readonly prefix?: string;
  readonly properties_target?: string;
}

/** The namespace attributes a create or update body sets. */
export interface NamespaceAttributes {
  readonly namespace: string;
  readonly display_name?: string;
  readonly description?: string;
  readonly visibility?: NamespaceVisibility;
  readonly protected?: boolean;
  readonly owner?: string;
}

/** A create body: the attributes and, optionally, everything the namespace holds. */
export interface NamespaceInput extends NamespaceAttributes {
  readonly properties: PropertyDefinitions;
  readonly objects: readonly ObjectInput[];
  readonly tags: readonly string[];
  readonly resource_type_associations: readonly AssociationInput[];
}

// Glance's messages, word for word.
const duplicateObject = (name: string, ns: string) =>
  new Conflict(`A metadata definition object with name=${name} already exists in namespace=${ns}.`);
const duplicateProperty = (name: string, ns: string) =>
  new Conflict(`A metadata definition property with name=${name} already exists in namespace=${ns}.`);
const duplicateTag = (name: string, ns: string) =>
  new Conflict(
    `A metadata tag with name=${name} already exists in namespace=${ns}. (Please note that metadata tag names are case insensitive).`,
  );
const duplicateAssociation = (name: string, ns: string) =>
  new Conflict(
    `The metadata definition resource-type association of resource-type=${name} to namespace=${ns} already exists.`,
  );
/** Deleting from a protected namespace (Glance checks the namespace's flag on every delete). */
export const protectedNamespace = (ns: string) =>
  new Forbidden(`Metadata definition namespace ${ns} is protected and cannot be deleted.`);

const without = <T>(map: Readonly<Record<string, T>>, key: string): Record<string, T> =>
  Object.fromEntries(Object.entries(map).filter(([name]) => name !== key));

/** Replaces the entry under `oldKey` by `newKey` → `value`, keeping its position. */
const renamed = <T>(
  map: Readonly<Record<string, T>>,
  oldKey: string,
  newKey: string,
  value: T,
): Record<string, T> =>
  Object.fromEntries(
    Object.entries(map).map(([name, item]) => (name === oldKey ? [newKey, value] : [name, item])),
  );

const firstDuplicate = (names: readonly string[], key: (name: string) => string = (name) => name) => {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(key(name))) return name;
    seen.add(key(name));
  }
  return undefined;
};

const newObject = (input: ObjectInput, at: string): MetadefObject => ({
  name: input.name,
  ...(input.description === undefined ? {} : { description: input.description }),
  required: [...input.required],
  properties: input.properties,
  created_at: at,
  updated_at: at,
});

const newAssociation = (input: AssociationInput, at: string): ResourceTypeAssociation => ({
  name: input.name,
  ...(input.prefix === undefined ? {} : { prefix: input.prefix }),
  ...(input.properties_target === undefined ? {} : { properties_target: input.properties_target }),
  created_at: at,
  updated_at: at,
});

/** `POST /v2/metadefs/namespaces`: defaults as Glance's (private, unprotected, the caller's project). */
export const newNamespace = (input: NamespaceInput, callerProject: string, now: Date): NamespaceRecord => {
  const at = now.toISOString();
  const duplicateObjectName = firstDuplicate(input.objects.map((object) => object.name));
  if (duplicateObjectName !== undefined) throw duplicateObject(duplicateObjectName, input.namespace);
  const duplicateTagName = firstDuplicate(input.tags, tagKey);
  if (duplicateTagName !== undefined) throw duplicateTag(duplicateTagName, input.namespace);
  const duplicateType = firstDuplicate(
    input.resource_type_associations.map((association) => association.name),
  );
  if (duplicateType !== undefined) throw duplicateAssociation(duplicateType, input.namespace);
  return {
    id: randomUUID(),
    namespace: input.namespace,
    ...(input.display_name === undefined ? {} : { display_name: input.display_name }),
    ...(input.description === undefined ? {} : { description: input.description }),
    visibility: input.visibility ?? 'private',
    protected: input.protected ?? false,
    owner: input.owner ?? callerProject,
    created_at: at,
    updated_at: at,
    version: 1,
    resource_type_associations: input.resource_type_associations.map((association) =>
      newAssociation(association, at),
    ),
    properties: input.properties,
    objects: input.objects.map((object) => newObject(object, at)),
    tags: input.tags.map((name) => ({ name, created_at: at, updated_at: at })),
  };
};

/**
 * `PUT /v2/metadefs/namespaces/{name}` replaces the attributes: what the body leaves out is reset,
 * to Glance's defaults (null texts, private, unprotected, the caller's project as owner). What the
 * namespace holds is kept; the body's properties, objects and tags are ignored, as in Glance.
 */
export const updateNamespace = (
  record: NamespaceRecord,
  input: NamespaceAttributes,
  callerProject: string,
  now: Date,
): NamespaceRecord => {
  const { display_name: _, description: __, ...rest } = record;
  return {
    ...rest,
    namespace: input.namespace,
    ...(input.display_name === undefined ? {} : { display_name: input.display_name }),
    ...(input.description === undefined ? {} : { description: input.description }),
    visibility: input.visibility ?? 'private',
    protected: input.protected ?? false,
    owner: input.owner || callerProject,
    updated_at: now.toISOString(),
  };
};

/** Deleting a namespace, or everything of one kind in it: never while it is protected. */
export const requireUnprotected = (record: NamespaceRecord): void => {
  if (record.protected) throw protectedNamespace(record.namespace);
};

// --- properties ---------------------------------------------------------------------------

const propertyNotFound = (name: string) => new NotFound(`Could not find property ${name}`);

export const findProperty = (record: NamespaceRecord, name: string): PropertyDefinition => {
  const definition = ownValue(record.properties, name);
  if (definition === undefined) throw propertyNotFound(name);
  return definition;
};

export const addProperty = (
  record: NamespaceRecord,
  name: string,
  definition: PropertyDefinition,
): NamespaceRecord => {
  if (Object.hasOwn(record.properties, name)) throw duplicateProperty(name, record.namespace);
  return {
    ...record,
    properties: Object.fromEntries([...Object.entries(record.properties), [name, definition]]),
  };
};

/** Replaces a definition; a new name renames it (409 if taken). */
export const updateProperty = (
  record: NamespaceRecord,
  name: string,
  newName: string,
  definition: PropertyDefinition,
): NamespaceRecord => {
  findProperty(record, name);
  if (newName !== name && Object.hasOwn(record.properties, newName)) {
    throw new Conflict(
      `Invalid update. It would result in a duplicate metadata definition property with the same name=${newName} in namespace=${record.namespace}.`,
    );
  }
  return { ...record, properties: renamed(record.properties, name, newName, definition) };
};

export const removeProperty = (record: NamespaceRecord, name: string): NamespaceRecord => {
  findProperty(record, name);
  if (record.protected) {
    throw new Forbidden(`Metadata definition property ${name} is protected and cannot be deleted.`);
  }
  return { ...record, properties: without(record.properties, name) };
};

export const removeAllProperties = (record: NamespaceRecord): NamespaceRecord => {
  requireUnprotected(record);
  return { ...record, properties: {} };
};

// --- objects ------------------------------------------------------------------------------

export const findObject = (record: NamespaceRecord, name: string): MetadefObject => {
  const found = record.objects.find((object) => object.name === name);
  if (!found) throw new NotFound(`Could not find metadata object ${name}`);
  return found;
};

export const addObject = (
  record: NamespaceRecord,
  input: ObjectInput,
  now: Date,
): { record: NamespaceRecord; object: MetadefObject } => {
  if (record.objects.some((object) => object.name === input.name))
    throw duplicateObject(input.name, record.namespace);
  const object = newObject(input, now.toISOString());
  return { record: { ...record, objects: [...record.objects, object] }, object };
};

/** Replaces an object's name, description, required list and properties (Glance's PUT). */
export const updateObject = (
  record: NamespaceRecord,
  name: string,
  input: ObjectInput,
  now: Date,
): { record: NamespaceRecord; object: MetadefObject } => {
  const current = findObject(record, name);
  if (input.name !== name && record.objects.some((object) => object.name === input.name)) {
    throw new Conflict(
      `Invalid update. It would result in a duplicate metadata definition object with the same name=${input.name} in namespace=${record.namespace}.`,
    );
  }
  const object: MetadefObject = { ...newObject(input, now.toISOString()), created_at: current.created_at };
  return {
    record: { ...record, objects: record.objects.map((item) => (item === current ? object : item)) },
    object,
  };
};

export const removeObject = (record: NamespaceRecord, name: string): NamespaceRecord => {
  const current = findObject(record, name);
  if (record.protected)
    throw new Forbidden(`Metadata definition object ${name} is protected and cannot be deleted.`);
  return { ...record, objects: record.objects.filter((object) => object !== current) };
};

export const removeAllObjects = (record: NamespaceRecord): NamespaceRecord => {
  requireUnprotected(record);
  return { ...record, objects: [] };
};

// --- tags ---------------------------------------------------------------------------------

/** Tags are found regardless of case, as Glance's database finds them. */
export const findTag = (record: NamespaceRecord, name: string): MetadefTag => {
  const found = record.tags.find((tag) => tagKey(tag.name) === tagKey(name));
  if (!found) throw new NotFound(`Could not find metadata tag ${name}`);
  return found;
};

export const addTag = (
  record: NamespaceRecord,
  name: string,
  now: Date,
): { record: NamespaceRecord; tag: MetadefTag } => {
  if (record.tags.some((tag) => tagKey(tag.name) === tagKey(name)))
    throw duplicateTag(name, record.namespace);
  const at = now.toISOString();
  const tag = { name, created_at: at, updated_at: at };
  return { record: { ...record, tags: [...record.tags, tag] }, tag };
};

/**
 * `POST .../tags`: replaces every tag, or with `append` adds to them. Any name given twice, or
 * (appending) already there, fails the whole request. An empty list changes nothing (Glance).
 */
export const addTags = (
  record: NamespaceRecord,
  names: readonly string[],
  append: boolean,
  now: Date,
): { record: NamespaceRecord; tags: readonly MetadefTag[] } => {
  if (names.length === 0) return { record, tags: [] };
  const kept = append ? record.tags : [];
  const duplicate = firstDuplicate([...kept.map((tag) => tag.name), ...names], tagKey);
  if (duplicate !== undefined) throw duplicateTag(duplicate, record.namespace);
  const at = now.toISOString();
  const tags = names.map((name) => ({ name, created_at: at, updated_at: at }));
  return { record: { ...record, tags: [...kept, ...tags] }, tags };
};

export const renameTag = (
  record: NamespaceRecord,
  name: string,
  newName: string,
  now: Date,
): { record: NamespaceRecord; tag: MetadefTag } => {
  const current = findTag(record, name);
  if (record.tags.some((tag) => tag !== current && tagKey(tag.name) === tagKey(newName))) {
    throw duplicateTag(newName, record.namespace);
  }
  const tag = { ...current, name: newName, updated_at: now.toISOString() };
  return { record: { ...record, tags: record.tags.map((item) => (item === current ? tag : item)) }, tag };
};

export const removeTag = (record: NamespaceRecord, name: string): NamespaceRecord => {
  const current = findTag(record, name);
  if (record.protected) {
    throw new Forbidden(`Metadata definition tag ${current.name} is protected and cannot be deleted.`);
  }
  return { ...record, tags: record.tags.filter((tag) => tag !== current) };
};

export const removeAllTags = (record: NamespaceRecord): NamespaceRecord => {
  requireUnprotected(record);
  return { ...record, tags: [] };
};

// --- resource-type associations -----------------------------------------------------------

export const findAssociation = (record: NamespaceRecord, name: string): ResourceTypeAssociation | undefined =>
  record.resource_type_associations.find((association) => association.name === name);

export const addAssociation = (
  record: NamespaceRecord,
  input: AssociationInput,
  now: Date,
): { record: NamespaceRecord; association: ResourceTypeAssociation } => {
  if (findAssociation(record, input.name)) throw duplicateAssociation(input.name, record.namespace);
  const association = newAssociation(input, now.toISOString());
  return {
    record: { ...record, resource_type_associations: [...record.resource_type_associations, association] },
    association,
  };
};

export const removeAssociation = (record: NamespaceRecord, name: string): NamespaceRecord => {
  const current = findAssociation(record, name);
  if (!current) throw new NotFound(`Failed to find resource type ${name} to delete`);
  if (record.protected) {
    throw new Forbidden(
      `Metadata definition resource-type-association ${name} is protected and cannot be deleted.`,
    );
  }
  return {
    ...record,
    resource_type_associations: record.resource_type_associations.filter(
      (association) => association !== current,
    ),
  };
};

// --- prefixes -----------------------------------------------------------------------------

/**
 * `GET .../namespaces/{name}?resource_type=X`: the names as they apply to resource type X, i.e.
 * with the prefix of X's association put before every property name (and every required name of
 * the objects). No association, or one without a prefix: unchanged, as in Glance.
 */
export const withResourceTypePrefix = (record: NamespaceRecord, resourceType: string): NamespaceRecord => {
  const prefix = findAssociation(record, resourceType)?.prefix;
  if (!prefix) return record;
  const prefixed = (properties: PropertyDefinitions): PropertyDefinitions =>
    Object.fromEntries(
      Object.entries(properties).map(([name, definition]) => [`${prefix}${name}`, definition]),
    );
  return {
    ...record,
    properties: prefixed(record.properties),
    objects: record.objects.map((object) => ({
      ...object,
      properties: prefixed(object.properties),
      required: object.required.map((name) => `${prefix}${name}`),
    })),
  };
};

/**
 * `GET .../properties/{name}?resource_type=X`: the stored name of a property asked for by its
 * prefixed name. 404 when X is not associated, or the name lacks the association's prefix.
 */
export const unprefixedPropertyName = (
  record: NamespaceRecord,
  name: string,
  resourceType: string,
): string => {
  const association = findAssociation(record, resourceType);
  if (!association) {
    throw new NotFound(
      `The metadata definition resource-type association of resource-type=${resourceType} to namespace=${record.namespace}, was not found.`,
    );
  }
  const prefix = association.prefix;
  if (!prefix || !name.startsWith(prefix)) {
    throw new NotFound(
      `Property ${name} does not start with the expected resource type association prefix of '${prefix ?? 'None'}'.`,
    );
  }
  return name.slice(prefix.length);
};
