import { describe, expect, it } from 'vitest';
import { BadRequest, Forbidden } from '#shared/errors';
import {
  checkName,
  propertyDefinition,
  pythonRepr,
  refuseReadOnly,
  validateBody,
} from '#shared/metadefs/validate';
import * as validators from '#shared/metadefs/validators.generated';

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('did not throw');
};

describe('pythonRepr', () => {
  it.each<[unknown, string]>([
    ['abc', "'abc'"],
    ["it's", "'it\\'s'"],
    [5, '5'],
    [true, 'True'],
    [null, 'None'],
    [['public', 'private'], "['public', 'private']"],
    [{ a: 1 }, "{'a': 1}"],
  ])('%j → %s', (value, repr) => {
    expect(pythonRepr(value)).toBe(repr);
  });

  it('cuts long values', () => {
    expect(pythonRepr('x'.repeat(500))).toHaveLength(60);
    expect(pythonRepr('x'.repeat(500)).endsWith('...')).toBe(true);
  });
});

describe('validateBody', () => {
  it.each<[string, unknown, string]>([
    ['a missing name', {}, "'namespace' is a required property"],
    [
      'an unknown attribute',
      { namespace: 'n', colour: 1 },
      "Additional properties are not allowed ('colour' was unexpected)",
    ],
    ['a wrong type', { namespace: 5 }, "5 is not of type 'string' (on instance['namespace'])"],
    [
      'an unknown visibility',
      { namespace: 'n', visibility: 'shared' },
      "'shared' is not one of ['public', 'private']",
    ],
    ['a name over 80 characters', { namespace: 'n'.repeat(81) }, 'is too long (on instance'],
    ['a description over 500 characters', { namespace: 'n', description: 'd'.repeat(501) }, 'is too long'],
    [
      'an object without a title',
      { namespace: 'n', properties: { p: { type: 'string' } } },
      "'title' is a required property",
    ],
    [
      'a bad nested type',
      { namespace: 'n', objects: [{ name: 1 }] },
      "1 is not of type 'string' (on instance['objects'][0]['name'])",
    ],
  ])('refuses %s in the words of jsonschema', (_, body, expected) => {
    const message = messageOf(() => validateBody(validators.namespace, body));
    expect(message).toContain("Provided object does not match schema 'namespace': ");
    expect(message).toContain(expected);
  });

  it('accepts what the schema allows', () => {
    expect(() =>
      validateBody(validators.namespace, {
        namespace: 'n',
        visibility: 'public',
        protected: true,
        tags: [{ name: 't' }],
      }),
    ).not.toThrow();
  });

  it('throws BadRequest', () => {
    expect(() => validateBody(validators.tag, {})).toThrow(BadRequest);
  });
});

describe('refuseReadOnly', () => {
  it.each(['self', 'schema', 'created_at', 'updated_at'])('answers 403 for %s', (key) => {
    expect(() => refuseReadOnly({ [key]: 'x' }, ['self', 'schema', 'created_at', 'updated_at'])).toThrow(
      Forbidden,
    );
  });

  it('ignores inherited names', () => {
    expect(() => refuseReadOnly({}, ['constructor', 'toString'])).not.toThrow();
  });
});

describe('propertyDefinition', () => {
  it('keeps the keys in the model order and drops the name', () => {
    const definition = propertyDefinition('p', { enum: ['a'], name: 'p', title: 'T', type: 'string' });
    expect(Object.keys(definition)).toEqual(['type', 'title', 'enum']);
  });

  it("takes repeated enum values as Glance's model does (its own catalog has some, e.g. cpu_info:model)", () => {
    expect(
      propertyDefinition('p', { type: 'string', title: 'T', enum: ['Valencia', 'a', 'Valencia'] }),
    ).toEqual({
      type: 'string',
      title: 'T',
      enum: ['Valencia', 'a', 'Valencia'],
    });
    expect(
      propertyDefinition('p', { type: 'array', title: 'T', items: { type: 'string', enum: ['x', 'x'] } }),
    ).toMatchObject({ items: { enum: ['x', 'x'] } });
  });

  it('keeps numbers and defaults as written', () => {
    expect(
      propertyDefinition('p', { type: 'number', title: 'T', minimum: 0.5, maximum: 1e21, default: false }),
    ).toEqual({ type: 'number', title: 'T', default: false, minimum: 0.5, maximum: 1e21 });
  });

  it.each<[string, unknown, string]>([
    ['an unknown key', { type: 'string', title: 'T', colour: 'red' }, "('colour' was unexpected)"],
    ['no title', { type: 'string' }, "'title' is a required property"],
    ['no type', { title: 'T' }, "'type' is a required property"],
    ['a null type', { type: null, title: 'T' }, 'None is not of type'],
    ['an unknown type', { type: 'date', title: 'T' }, "'date' is not one of"],
    ['a non-string enum value', { type: 'integer', title: 'T', enum: [1, 2] }, "1 is not of type 'string'"],
    ['an empty enum', { type: 'string', title: 'T', enum: [] }, 'is too short'],
    [
      'items without a type',
      { type: 'array', title: 'T', items: { enum: ['a'] } },
      "'type' is a required property",
    ],
    [
      'items with an unknown key',
      { type: 'array', title: 'T', items: { type: 'string', min: 1 } },
      "('min' was unexpected)",
    ],
    ['a negative maxLength', { type: 'string', title: 'T', maxLength: -1 }, 'is less than the minimum of 0'],
    ['a fractional minItems', { type: 'array', title: 'T', minItems: 1.5 }, "1.5 is not of type 'integer'"],
    [
      'a pattern that does not compile',
      { type: 'string', title: 'T', pattern: '([a-z' },
      'is not a valid regular expression',
    ],
    [
      'minimum above maximum',
      { type: 'integer', title: 'T', minimum: 5, maximum: 1 },
      'minimum (5) is greater than maximum (1)',
    ],
    [
      'minLength above maxLength',
      { type: 'string', title: 'T', minLength: 5, maxLength: 1 },
      'minLength (5) is greater than maxLength (1)',
    ],
    [
      'minItems above maxItems',
      { type: 'array', title: 'T', minItems: 3, maxItems: 2 },
      'minItems (3) is greater than maxItems (2)',
    ],
    ['a string as definition', 'string', "'string' is not of type 'object'"],
  ])('refuses %s', (_, raw, expected) => {
    const message = messageOf(() => propertyDefinition('hw_x', raw));
    expect(message).toMatch(/^Invalid property definition 'hw_x': /);
    expect(message).toContain(expected);
  });
});

describe('checkName', () => {
  it('refuses empty names and names over 80 characters (code points)', () => {
    expect(() => checkName('tag', '')).toThrow(/must not be empty/);
    expect(() => checkName('tag', 't'.repeat(81))).toThrow(/at most 80 characters/);
    expect(checkName('tag', '😀'.repeat(80))).toHaveLength(160);
  });
});
