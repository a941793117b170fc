/**
 * Request bodies of the metadefs API, checked in Glance's order: read-only attributes (403), then
 * the served JSON schema of the resource (400, with jsonschema's wording), then what Glance's
 * model would refuse later (unknown keys in a property definition, non-string enums...) and what
 * makes a property definition an invalid JSON-schema fragment (a pattern that does not compile,
 * a minimum above the maximum); the list is in docs/metadefs.md#bad-input. Nothing here touches
 * storage: a body that fails is never written.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { BadRequest, Forbidden } from '#shared/errors';
import type { Json } from '#shared/schemas/documents';
import {
  METADEF_LIMITS,
  PROPERTY_DEFINITION_KEYS,
  PROPERTY_TYPES,
  type PropertyDefinition,
  type PropertyDefinitions,
} from './model.ts';
import { REQUEST_SCHEMAS, type RequestSchemaName } from './schemas.ts';

// `strict: false`: Glance's documents carry `name` and `links` keywords JSON Schema does not know.
const ajv = new Ajv({ strict: false, allErrors: false, verbose: true, validateFormats: false });

const compiled = new Map<string, ValidateFunction>();
const validatorFor = (name: string, schema: object): ValidateFunction => {
  let validate = compiled.get(name);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(name, validate);
  }
  return validate;
};

/** Python's repr of a JSON value, as jsonschema puts it in its messages; long values cut. */
export const pythonRepr = (value: unknown, budget = 60): string => {
  const repr = (v: unknown): string => {
    if (v === null || v === undefined) return 'None';
    if (v === true) return 'True';
    if (v === false) return 'False';
    if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    if (typeof v === 'number') return String(v);
    if (Array.isArray(v)) return `[${v.map(repr).join(', ')}]`;
    return `{${Object.entries(v as object)
      .map(([k, item]) => `${repr(k)}: ${repr(item)}`)
      .join(', ')}}`;
  };
  const text = repr(value);
  const chars = [...text];
  return chars.length > budget ? `${chars.slice(0, budget - 3).join('')}...` : text;
};

/** `['objects'][0]['name']`: where in the body the problem is, in jsonschema's notation. */
const instancePath = (path: string): string =>
  path
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `[${pythonRepr(part, 100)}]`))
    .join('');

/** jsonschema's message for the first error ajv found. */
export const describeSchemaError = (error: ErrorObject): string => {
  const value = error.data;
  const params = error.params as Record<string, unknown>;
  const reason = (() => {
    switch (error.keyword) {
      case 'required':
        return `${pythonRepr(params.missingProperty)} is a required property`;
      case 'additionalProperties':
        return `Additional properties are not allowed (${pythonRepr(params.additionalProperty)} was unexpected)`;
      case 'type': {
        const types = String(params.type).split(',');
        return `${pythonRepr(value)} is not of type ${types.map((t) => pythonRepr(t)).join(', ')}`;
      }
      case 'enum':
        return `${pythonRepr(value)} is not one of ${pythonRepr(error.schema, 200)}`;
      case 'maxLength':
      case 'maxItems':
        return `${pythonRepr(value)} is too long`;
      case 'minLength':
      case 'minItems':
        return `${pythonRepr(value)} is too short`;
      case 'minimum':
        return `${pythonRepr(value)} is less than the minimum of ${pythonRepr(params.limit)}`;
      case 'maximum':
        return `${pythonRepr(value)} is greater than the maximum of ${pythonRepr(params.limit)}`;
      case 'uniqueItems':
        return `${pythonRepr(value)} has non-unique elements`;
      default:
        return `${pythonRepr(value)}: ${error.message ?? 'is not valid'}`;
    }
  })();
  const where = instancePath(error.instancePath);
  return where ? `${reason} (on instance${where})` : reason;
};

/** 400 unless `body` matches the schema Glance checks this request against. */
export const validateBody = (schema: RequestSchemaName, body: unknown): void => {
  const validate = validatorFor(`request:${schema}`, REQUEST_SCHEMAS[schema]);
  if (validate(body)) return;
  const [first] = validate.errors ?? [];
  const reason = first ? describeSchemaError(first) : 'the body is not valid';
  throw new BadRequest(`Provided object does not match schema '${REQUEST_SCHEMAS[schema].name}': ${reason}`);
};

/** Glance answers 403 when a body sets an attribute the server owns. */
export const refuseReadOnly = (body: Record<string, unknown>, readOnly: readonly string[]): void => {
  for (const key of readOnly) {
    if (Object.hasOwn(body, key)) throw new Forbidden(`Attribute '${key}' is read-only.`);
  }
};

export const READ_ONLY = {
  namespace: ['self', 'schema', 'created_at', 'updated_at'],
  object: ['self', 'schema', 'created_at', 'updated_at'],
  property: ['created_at', 'updated_at'],
  tag: ['created_at', 'updated_at'],
  resource_type: ['created_at', 'updated_at'],
} as const;

const TYPES: readonly string[] = PROPERTY_TYPES;
const nonNegativeInteger = { type: 'integer', minimum: 0 };
const strings = { type: 'array', items: { type: 'string' } };
const enumValues = { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true };

/**
 * What a stored property definition may be: Glance's property model (every key it knows, no other,
 * enum values as strings, `items` with a type), `name` aside. Stricter than the served schemas,
 * which let through keys and values that Glance's model then fails on with a 500.
 */
const PROPERTY_FRAGMENT = {
  type: 'object',
  required: ['type', 'title'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: METADEF_LIMITS.name },
    type: { type: 'string', enum: TYPES },
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
      properties: { type: { type: 'string', enum: TYPES }, enum: enumValues },
    },
    uniqueItems: { type: 'boolean' },
    minItems: nonNegativeInteger,
    maxItems: nonNegativeInteger,
    additionalItems: { type: 'boolean' },
  },
} as const;

const invalidDefinition = (name: string, reason: string) =>
  new BadRequest(`Invalid property definition ${pythonRepr(name, 100)}: ${reason}`);

/** A bound that must not be above its partner: `minimum` ≤ `maximum` and the like. */
const BOUNDS = [
  ['minimum', 'maximum'],
  ['minLength', 'maxLength'],
  ['minItems', 'maxItems'],
] as const;

/**
 * One property definition as it will be stored: checked against the model, its pattern compiled,
 * its bounds ordered; keys in the model's order, `name` dropped (the caller keys it by name).
 */
export const propertyDefinition = (name: string, raw: unknown): PropertyDefinition => {
  const validate = validatorFor('property-fragment', PROPERTY_FRAGMENT);
  if (!validate(raw)) {
    const [first] = validate.errors ?? [];
    throw invalidDefinition(name, first ? describeSchemaError(first) : 'not a valid definition');
  }
  const definition = raw as Record<string, Json>;
  if (typeof definition.pattern === 'string') {
    try {
      new RegExp(definition.pattern);
    } catch {
      throw invalidDefinition(
        name,
        `pattern ${pythonRepr(definition.pattern)} is not a valid regular expression`,
      );
    }
  }
  for (const [low, high] of BOUNDS) {
    const lower = definition[low];
    const upper = definition[high];
    if (typeof lower === 'number' && typeof upper === 'number' && lower > upper) {
      throw invalidDefinition(name, `${low} (${lower}) is greater than ${high} (${upper})`);
    }
  }
  return Object.fromEntries(
    PROPERTY_DEFINITION_KEYS.filter((key) => Object.hasOwn(definition, key)).map((key) => [
      key,
      definition[key],
    ]),
  ) as unknown as PropertyDefinition;
};

/** A map of definitions (namespace or object `properties`), each checked; names within the limit. */
export const propertyDefinitions = (raw: unknown): PropertyDefinitions => {
  if (raw === undefined || raw === null) return {};
  return Object.fromEntries(
    Object.entries(raw as Record<string, unknown>).map(([name, definition]) => {
      checkName('property', name);
      return [name, propertyDefinition(name, definition)];
    }),
  );
};

/** Names are keys in URLs: Glance's length limit, and never empty (an empty name cannot be addressed). */
export const checkName = (kind: string, name: string): string => {
  if (name.length === 0) throw new BadRequest(`The ${kind} name must not be empty.`);
  if ([...name].length > METADEF_LIMITS.name) {
    throw new BadRequest(
      `The ${kind} name ${pythonRepr(name)} is too long: at most ${METADEF_LIMITS.name} characters.`,
    );
  }
  return name;
};
