/**
 * The ten JSON schema documents of `GET /v2/schemas/metadefs/{name}`, built the way Glance builds
 * them (item schemas with `additionalProperties: false`; collections move the item's definitions
 * to the top). Request bodies are validated against these very documents, compiled into
 * validators.generated.ts, so what a client reads is what the server enforces.
 */
import { collectionSchema, type JsonObject } from '#shared/schemas/documents';
import { METADEF_LIMITS, NAMESPACE_VISIBILITIES, PROPERTY_TYPES } from './model.ts';

/** Glance lists `null` among the types, although `type: string` rules it out. */
const TYPE_ENUM = ['array', 'boolean', 'integer', 'number', 'object', 'string', null];

const readOnlyTime = (description: string): JsonObject => ({
  type: 'string',
  readOnly: true,
  description,
  format: 'date-time',
});

const POSITIVE_INTEGER: JsonObject = { type: 'integer', minimum: 0 };
const POSITIVE_INTEGER_DEFAULT_0: JsonObject = {
  allOf: [{ $ref: '#/definitions/positiveInteger' }, { default: 0 }],
};
const stringArray = (minItems?: number): JsonObject => ({
  type: 'array',
  items: { type: 'string' },
  ...(minItems === undefined ? {} : { minItems }),
  uniqueItems: true,
});

/** The attributes of one property definition (Glance's `property` definition). */
const PROPERTY_ATTRIBUTES: JsonObject = {
  name: { type: 'string', maxLength: METADEF_LIMITS.name },
  title: { type: 'string' },
  description: { type: 'string' },
  operators: { type: 'array', items: { type: 'string' } },
  type: { type: 'string', enum: TYPE_ENUM },
  required: { $ref: '#/definitions/stringArray' },
  minimum: { type: 'number' },
  maximum: { type: 'number' },
  maxLength: { $ref: '#/definitions/positiveInteger' },
  minLength: { $ref: '#/definitions/positiveIntegerDefault0' },
  pattern: { type: 'string', format: 'regex' },
  enum: { type: 'array' },
  readonly: { type: 'boolean' },
  default: {},
  items: {
    type: 'object',
    properties: { type: { type: 'string', enum: TYPE_ENUM }, enum: { type: 'array' } },
  },
  maxItems: { $ref: '#/definitions/positiveInteger' },
  minItems: { $ref: '#/definitions/positiveIntegerDefault0' },
  uniqueItems: { type: 'boolean', default: false },
  additionalItems: { type: 'boolean' },
};

/** Definitions of the namespace and object schemas. */
const NAMESPACE_DEFINITIONS: JsonObject = {
  positiveInteger: POSITIVE_INTEGER,
  positiveIntegerDefault0: POSITIVE_INTEGER_DEFAULT_0,
  stringArray: stringArray(),
  property: {
    type: 'object',
    additionalProperties: { type: 'object', required: ['title', 'type'], properties: PROPERTY_ATTRIBUTES },
  },
};

/** Definitions of the property schemas: no `property`, and a `stringArray` that must not be empty. */
const PROPERTY_DEFINITIONS: JsonObject = {
  positiveInteger: POSITIVE_INTEGER,
  positiveIntegerDefault0: POSITIVE_INTEGER_DEFAULT_0,
  stringArray: stringArray(1),
};

const itemSchema = (
  name: string,
  properties: JsonObject,
  required: readonly string[],
  definitions?: JsonObject,
): JsonObject => ({
  name,
  properties,
  additionalProperties: false,
  ...(definitions ? { definitions } : {}),
  ...(required.length ? { required } : {}),
});

const NAMESPACE_SCHEMA = /* @__PURE__ */ itemSchema(
  'namespace',
  {
    namespace: { type: 'string', description: 'The unique namespace text.', maxLength: METADEF_LIMITS.name },
    display_name: {
      type: 'string',
      description: 'The user friendly name for the namespace. Used by UI if available.',
      maxLength: METADEF_LIMITS.displayName,
    },
    description: {
      type: 'string',
      description: 'Provides a user friendly description of the namespace.',
      maxLength: METADEF_LIMITS.description,
    },
    visibility: {
      type: 'string',
      description: 'Scope of namespace accessibility.',
      enum: NAMESPACE_VISIBILITIES,
    },
    protected: { type: 'boolean', description: 'If true, namespace will not be deletable.' },
    owner: { type: 'string', description: 'Owner of the namespace.', maxLength: METADEF_LIMITS.owner },
    created_at: readOnlyTime('Date and time of namespace creation'),
    updated_at: readOnlyTime('Date and time of the last namespace modification'),
    schema: { readOnly: true, type: 'string' },
    self: { readOnly: true, type: 'string' },
    resource_type_associations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          prefix: { type: 'string' },
          properties_target: { type: 'string' },
        },
      },
    },
    properties: { $ref: '#/definitions/property' },
    objects: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          required: { $ref: '#/definitions/stringArray' },
          properties: { $ref: '#/definitions/property' },
        },
      },
    },
    tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
  },
  ['namespace'],
  NAMESPACE_DEFINITIONS,
);

const RESOURCE_TYPE_SCHEMA = /* @__PURE__ */ itemSchema(
  'resource_type_association',
  {
    name: {
      type: 'string',
      description:
        'Resource type names should be aligned with Heat resource types whenever possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html',
      maxLength: METADEF_LIMITS.name,
    },
    prefix: {
      type: 'string',
      description:
        'Specifies the prefix to use for the given resource type. Any properties in the namespace should be prefixed with this prefix when being applied to the specified resource type. Must include prefix separator (e.g. a colon :).',
      maxLength: METADEF_LIMITS.name,
    },
    properties_target: {
      type: 'string',
      description:
        'Some resource types allow more than one key / value pair per instance.  For example, Cinder allows user and image metadata on volumes. Only the image properties metadata is evaluated by Nova (scheduling or drivers). This property allows a namespace target to remove the ambiguity.',
      maxLength: METADEF_LIMITS.name,
    },
    created_at: readOnlyTime('Date and time of resource type association'),
    updated_at: readOnlyTime('Date and time of the last resource type association modification'),
  },
  ['name'],
);

const propertySchema = (required: readonly string[]) =>
  itemSchema('property', PROPERTY_ATTRIBUTES, required, PROPERTY_DEFINITIONS);
/** A single property (`POST .../properties`, `PUT .../properties/{name}`): the name is in the body. */
const PROPERTY_SCHEMA = /* @__PURE__ */ propertySchema(['type', 'title', 'name']);

const OBJECT_SCHEMA = /* @__PURE__ */ itemSchema(
  'object',
  {
    name: { type: 'string', maxLength: METADEF_LIMITS.name },
    description: { type: 'string' },
    required: { $ref: '#/definitions/stringArray' },
    properties: { $ref: '#/definitions/property' },
    schema: { readOnly: true, type: 'string' },
    self: { readOnly: true, type: 'string' },
    created_at: readOnlyTime('Date and time of object creation'),
    updated_at: readOnlyTime('Date and time of the last object modification'),
  },
  ['name'],
  NAMESPACE_DEFINITIONS,
);

const TAG_SCHEMA = /* @__PURE__ */ itemSchema(
  'tag',
  {
    name: { type: 'string', maxLength: METADEF_LIMITS.name },
    created_at: readOnlyTime('Date and time of tag creation'),
    updated_at: readOnlyTime('Date and time of the last tag modification'),
  },
  ['name'],
);

const DOCUMENTS = {
  namespace: NAMESPACE_SCHEMA,
  namespaces: collectionSchema('namespaces', NAMESPACE_SCHEMA),
  resource_type: RESOURCE_TYPE_SCHEMA,
  resource_types: collectionSchema('resource_type_associations', RESOURCE_TYPE_SCHEMA),
  property: PROPERTY_SCHEMA,
  // In a collection the name is the key, so it is not required in the item.
  properties: collectionSchema('properties', propertySchema(['type', 'title']), 'object'),
  object: OBJECT_SCHEMA,
  objects: collectionSchema('objects', OBJECT_SCHEMA),
  tag: TAG_SCHEMA,
  tags: collectionSchema('tags', TAG_SCHEMA),
} as const satisfies Record<string, JsonObject>;

export type MetadefSchemaName = keyof typeof DOCUMENTS;
export const METADEF_SCHEMA_NAMES = /* @__PURE__ */ Object.keys(DOCUMENTS) as MetadefSchemaName[];

/**
 * The document for `GET /v2/schemas/metadefs/{name}`, or undefined (→ 404). Own keys only, and a
 * fresh copy each time, as for the image schemas.
 */
export const metadefSchemaDocument = (name: string): JsonObject | undefined =>
  Object.hasOwn(DOCUMENTS, name) ? structuredClone(DOCUMENTS[name as MetadefSchemaName]) : undefined;

/**
 * The schemas request bodies are checked against: scripts/generate-metadef-validators.ts compiles
 * these very objects into validators.generated.ts.
 */
export const REQUEST_SCHEMAS = {
  namespace: NAMESPACE_SCHEMA,
  resource_type: RESOURCE_TYPE_SCHEMA,
  property: PROPERTY_SCHEMA,
  object: OBJECT_SCHEMA,
  tag: TAG_SCHEMA,
  /**
   * `POST .../tags` (not served by Glance either): a list of `{name}` objects. Glance's version
   * sets no length on these names; the tag limit applies here too.
   */
  tags: itemSchema(
    'tags',
    {
      tags: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string', maxLength: METADEF_LIMITS.name } },
          required: ['name'],
          additionalProperties: false,
        },
      },
    },
    [],
  ),
} as const satisfies Record<string, JsonObject>;
export type RequestSchemaName = keyof typeof REQUEST_SCHEMAS;

const nonNegativeInteger: JsonObject = { type: 'integer', minimum: 0 };
const strings: JsonObject = { type: 'array', items: { type: 'string' } };
// Values may repeat: Glance's model takes any list of strings, and its own catalog has repeats.
const enumValues: JsonObject = { type: 'array', items: { type: 'string' }, minItems: 1 };

/**
 * What a stored property definition may be: Glance's property model (every key it knows, no other,
 * enum values as strings, `items` with a type), `name` aside. Stricter than the served schemas,
 * which let through keys and values that Glance's model then fails on with a 500.
 */
export const PROPERTY_MODEL_SCHEMA = {
  type: 'object',
  required: ['type', 'title'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: METADEF_LIMITS.name },
    type: { type: 'string', enum: PROPERTY_TYPES },
    title: { type: 'string' },
    description: { type: 'string' },
    operators: strings,
    default: {},
    readonly: { type: 'boolean' },
    minimum: { type: 'number' },
    maximum: { type: 'number' },
    enum: enumValues,
    pattern: { type: 'string' },
    minLength: nonNegativeInteger,
    maxLength: nonNegativeInteger,
    confidential: { type: 'boolean' },
    items: {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: { type: { type: 'string', enum: PROPERTY_TYPES }, enum: enumValues },
    },
    uniqueItems: { type: 'boolean' },
    minItems: nonNegativeInteger,
    maxItems: nonNegativeInteger,
    additionalItems: { type: 'boolean' },
  },
} as const;
