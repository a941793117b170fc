/**
 * Request bodies to typed inputs, each through validate.ts in Glance's order (403 read-only
 * attributes, 400 schema, 400 model). What these return is safe to store.
 */
import { BadRequest } from '#shared/errors';
import type { AssociationInput, NamespaceAttributes, NamespaceInput, ObjectInput } from './changes.ts';
import { METADEF_LIMITS, type NamespaceVisibility, type PropertyDefinition } from './model.ts';
import {
  checkName,
  propertyDefinition,
  propertyDefinitions,
  pythonRepr,
  READ_ONLY,
  refuseReadOnly,
  validateBody,
} from './validate.ts';
import * as validators from './validators.generated.ts';

type Body = Record<string, unknown>;

const optionalText = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Nested lists in a namespace body are only loosely typed by Glance's schema: check what it leaves. */
const nestedText = (kind: string, field: string, value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BadRequest(`The ${kind} ${field} must be a string.`);
  if ([...value].length > METADEF_LIMITS.name) {
    throw new BadRequest(
      `The ${kind} ${field} ${pythonRepr(value)} is too long: at most ${METADEF_LIMITS.name} characters.`,
    );
  }
  return value;
};

const nestedName = (kind: string, value: unknown): string => {
  if (typeof value !== 'string') throw new BadRequest(`Every ${kind} needs a name.`);
  return checkName(kind, value);
};

/**
 * Keys Glance's model knows for an item nested in a namespace body; its schema lets others
 * through, and its model then fails on them with a 500.
 */
const onlyKnownKeys = (kind: string, raw: Body, known: readonly string[]): Body => {
  const unknown = Object.keys(raw).find((key) => !known.includes(key));
  if (unknown !== undefined) throw new BadRequest(`Unknown attribute ${pythonRepr(unknown)} in a ${kind}.`);
  return raw;
};
const TIMES = ['created_at', 'updated_at'];

const association = (raw: Body): AssociationInput => {
  onlyKnownKeys('resource type association', raw, ['name', 'prefix', 'properties_target', ...TIMES]);
  const prefix = nestedText('resource type association', 'prefix', raw.prefix);
  const target = nestedText('resource type association', 'properties_target', raw.properties_target);
  return {
    name: nestedName('resource type', raw.name),
    ...(prefix === undefined ? {} : { prefix }),
    ...(target === undefined ? {} : { properties_target: target }),
  };
};

const objectFrom = (raw: Body): ObjectInput => {
  onlyKnownKeys('object', raw, ['name', 'description', 'required', 'properties', 'self', 'schema', ...TIMES]);
  const description = optionalText(raw.description);
  return {
    name: nestedName('object', raw.name),
    ...(description === undefined ? {} : { description }),
    required: (raw.required as string[] | undefined) ?? [],
    properties: propertyDefinitions(raw.properties),
  };
};

const attributesFrom = (body: Body): NamespaceAttributes => {
  const optional = (key: 'display_name' | 'description' | 'owner') =>
    typeof body[key] === 'string' ? { [key]: body[key] as string } : {};
  return {
    namespace: checkName('namespace', body.namespace as string),
    ...optional('display_name'),
    ...optional('description'),
    ...optional('owner'),
    ...(typeof body.visibility === 'string' ? { visibility: body.visibility as NamespaceVisibility } : {}),
    ...(typeof body.protected === 'boolean' ? { protected: body.protected } : {}),
  };
};

const checkedNamespaceBody = (body: Body): Body => {
  refuseReadOnly(body, READ_ONLY.namespace);
  validateBody(validators.namespace, body);
  return body;
};

/** `POST /v2/metadefs/namespaces`: the namespace and anything it should hold from the start. */
export const namespaceCreateInput = (raw: Body): NamespaceInput => {
  const body = checkedNamespaceBody(raw);
  return {
    ...attributesFrom(body),
    properties: propertyDefinitions(body.properties),
    objects: ((body.objects as Body[] | undefined) ?? []).map(objectFrom),
    tags: ((body.tags as Body[] | undefined) ?? []).map((tag) =>
      nestedName('tag', onlyKnownKeys('tag', tag, ['name', ...TIMES]).name),
    ),
    resource_type_associations: ((body.resource_type_associations as Body[] | undefined) ?? []).map(
      association,
    ),
  };
};

/** `PUT /v2/metadefs/namespaces/{name}`: checked like a create body, but only the attributes count. */
export const namespaceUpdateInput = (raw: Body): NamespaceAttributes => {
  const {
    properties: _,
    objects: __,
    tags: ___,
    resource_type_associations: ____,
    ...attributes
  } = namespaceCreateInput(raw);
  return attributes;
};

/** `POST .../objects` and `PUT .../objects/{name}`. */
export const objectInput = (body: Body): ObjectInput => {
  refuseReadOnly(body, READ_ONLY.object);
  validateBody(validators.object, body);
  return objectFrom(body);
};

/** `POST .../properties` and `PUT .../properties/{name}`: the name is part of the body. */
export const propertyInput = (body: Body): { name: string; definition: PropertyDefinition } => {
  refuseReadOnly(body, READ_ONLY.property);
  validateBody(validators.property, body);
  const name = checkName('property', body.name as string);
  return { name, definition: propertyDefinition(name, body) };
};

/** `POST .../resource_types`. */
export const associationInput = (body: Body): AssociationInput => {
  refuseReadOnly(body, READ_ONLY.resource_type);
  validateBody(validators.resource_type, body);
  return association(body);
};

/** `PUT .../tags/{name}`: the new name. */
export const tagRenameInput = (body: Body): string => {
  refuseReadOnly(body, READ_ONLY.tag);
  validateBody(validators.tag, body);
  return checkName('tag', body.name as string);
};

/** `POST .../tags/{name}`: the name comes from the path and is checked like a body would be. */
export const tagNameInput = (name: string): string => {
  validateBody(validators.tag, { name });
  return checkName('tag', name);
};

/** `POST .../tags`: `{"tags": [{"name": ...}, ...]}`. */
export const tagsInput = (body: Body): string[] => {
  refuseReadOnly(body, READ_ONLY.tag);
  validateBody(validators.tags, body);
  return ((body.tags as Body[] | undefined) ?? []).map((tag) => checkName('tag', tag.name as string));
};
