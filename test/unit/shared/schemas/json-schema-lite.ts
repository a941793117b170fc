/**
 * Test-only: the subset of JSON Schema our documents use (type, enum, pattern, min/maxLength,
 * items, properties, required, additionalProperties), enough to check documents against values the
 * way python-glanceclient's warlock/jsonschema would.
 */
import type { Json, JsonObject } from '#shared/schemas/documents';

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

const hasType = (value: unknown, type: string): boolean => {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
};

/** Error messages, empty when `value` satisfies `schema`. */
export const check = (schema: Json | undefined, value: unknown, path = '$'): string[] => {
  if (schema === undefined || schema === null || typeof schema !== 'object' || Array.isArray(schema))
    return [];
  const s = schema as JsonObject;
  const errors: string[] = [];
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => hasType(value, t))) return [`${path}: expected ${types.join('|')}`];
  }
  if (Array.isArray(s.enum) && !(s.enum as Json[]).some((e) => e === value))
    errors.push(`${path}: not in enum`);
  if (typeof value === 'string') {
    if (typeof s.maxLength === 'number' && [...value].length > s.maxLength) errors.push(`${path}: too long`);
    if (typeof s.minLength === 'number' && [...value].length < s.minLength) errors.push(`${path}: too short`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern).test(value)) errors.push(`${path}: pattern`);
  }
  if (Array.isArray(value) && s.items !== undefined) {
    value.forEach((item, i) => {
      errors.push(...check(s.items, item, `${path}[${i}]`));
    });
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const properties = (s.properties ?? {}) as JsonObject;
    for (const name of (s.required ?? []) as string[]) {
      if (!(name in record)) errors.push(`${path}.${name}: required`);
    }
    for (const [key, item] of Object.entries(record)) {
      if (Object.hasOwn(properties, key)) errors.push(...check(properties[key], item, `${path}.${key}`));
      else if (s.additionalProperties === false) errors.push(`${path}.${key}: not allowed`);
      else errors.push(...check(s.additionalProperties, item, `${path}.${key}`));
    }
  }
  return errors;
};
