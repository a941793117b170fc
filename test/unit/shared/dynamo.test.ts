import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Codecs, encodeAttribute, encodeRecord, jsonText, namedPairs, stripKeys } from '#shared/dynamo';
import { objectOf, PROTOTYPE_NAMES } from '#test/helpers/hostile';

const names = fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ minLength: 1, maxLength: 20 }));
const properties = fc.uniqueArray(fc.tuple(names, fc.string()), {
  selector: ([name]) => name,
  maxLength: 12,
});

/** What a DynamoDB round trip does to a value: the SDK's marshalling there and back. */
const throughDynamo = (item: Record<string, unknown>) =>
  unmarshall(marshall(item, { removeUndefinedValues: true }));

const CODECS: Codecs = { properties: namedPairs, input: jsonText };

describe('attribute codecs', () => {
  it.each(PROTOTYPE_NAMES)('a property named %s breaks the SDK marshaller as a map, not as pairs', (name) => {
    const record = { properties: objectOf([[name, 'v']]) };
    if (name === 'constructor') expect(() => marshall(record)).toThrow(/Unsupported type/);
    const stored = throughDynamo(encodeRecord(record, CODECS));
    const back = stripKeys<typeof record>(stored, CODECS);
    expect(Object.keys(back.properties)).toEqual([name]);
    expect(Object.getOwnPropertyDescriptor(back.properties, name)?.value).toBe('v');
  });

  it('round-trips any property names through the SDK marshaller, in the order of the object', () => {
    fc.assert(
      fc.property(properties, (entries) => {
        const record = { properties: objectOf(entries) };
        const back = stripKeys<typeof record>(throughDynamo(encodeRecord(record, CODECS)), CODECS);
        expect(Object.entries(back.properties)).toEqual(Object.entries(record.properties));
        expect(Object.getPrototypeOf(back.properties)).toBe(Object.prototype);
      }),
    );
  });

  it('round-trips any JSON value as text, member names and depth included', () => {
    const member = fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 8 }));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', maxDepth: 12 },
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 3 }),
        fc
          .uniqueArray(fc.tuple(member, tie('value')), { selector: ([name]) => name, maxLength: 3 })
          .map(objectOf),
      ),
    }));
    fc.assert(
      fc.property(value, (input) => {
        const stored = throughDynamo({ input: encodeAttribute(CODECS, 'input', input) });
        expect(typeof stored.input === 'string' || input === null).toBe(true);
        expect(JSON.stringify(stripKeys<{ input: unknown }>(stored, CODECS).input)).toBe(
          JSON.stringify(input),
        );
      }),
    );
  });

  it('keeps null and absent values as they are', () => {
    expect(encodeAttribute(CODECS, 'input', null)).toBeNull();
    expect(encodeAttribute(CODECS, 'input', undefined)).toBeUndefined();
    expect(stripKeys<{ input: unknown }>({ input: null }, CODECS).input).toBeNull();
    expect(encodeAttribute(CODECS, 'name', { a: 1 })).toEqual({ a: 1 });
  });

  it('reads maps stored by an earlier version as they are', () => {
    const stored = { pk: 'IMAGE#x', properties: { os_distro: 'cirros' }, input: { import_from: 'u' } };
    expect(stripKeys(stored, CODECS)).toEqual({
      properties: { os_distro: 'cirros' },
      input: { import_from: 'u' },
    });
  });
});
