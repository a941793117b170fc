/**
 * Request bodies of the metadefs API, checked in Glance's order: read-only attributes (403), then
 * the served JSON schema of the resource (400, with jsonschema's wording), then what Glance's
 * model would refuse later (unknown keys in a property definition, non-string enums...) and what
 * makes a property definition an invalid JSON-schema fragment (a pattern that does not compile,
 * a minimum above the maximum); the list is in docs/metadefs.md#bad-input. Nothing here touches
 * storage: a body that fails is never written.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { BadRequest, Forbidden } from '#shared/errors';
import type { Json } from '#shared/schemas/documents';
import {
  METADEF_LIMITS,
  PROPERTY_DEFINITION_KEYS,
  type PropertyDefinition,
  type PropertyDefinitions,
} from './model.ts';
import { property_definition as PROPERTY_MODEL } from './validators.generated.ts';

/**
 * A request schema compiled ahead of time (validators.generated.ts, from schemas.ts), with the
 * name its refusals give.
 */
export interface RequestValidator {
  readonly schema: string;
  readonly validate: ValidateFunction;
}

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

/** The value at a JSON pointer (an ajv `instancePath`) in `root`. */
const valueAt = (root: unknown, path: string): unknown =>
  path
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], root);

/** jsonschema's message for the first error ajv found in `root`. */
export const describeSchemaError = (error: ErrorObject, root: unknown): string => {
  const value = valueAt(root, error.instancePath);
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
        return `${pythonRepr(value)} is not one of ${pythonRepr(params.allowedValues, 200)}`;
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
export const validateBody = ({ schema, validate }: RequestValidator, body: unknown): void => {
  if (validate(body)) return;
  const [first] = validate.errors ?? [];
  const reason = first ? describeSchemaError(first, body) : 'the body is not valid';
  throw new BadRequest(`Provided object does not match schema '${schema}': ${reason}`);
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
  const { validate } = PROPERTY_MODEL;
  if (!validate(raw)) {
    const [first] = validate.errors ?? [];
    throw invalidDefinition(name, first ? describeSchemaError(first, raw) : 'not a valid definition');
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
