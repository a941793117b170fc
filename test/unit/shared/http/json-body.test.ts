import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequest } from '#shared/errors';
import { BODY_LIMITS, IMPORT_BODY_LIMITS, nestingDepth, parseJsonWithin } from '#shared/http/json-body';
import { deepArray, deepObject } from '#test/helpers/hostile';

/** The depth of a parsed value, the obvious recursive way (only for shallow test values). */
const depthOf = (value: unknown): number => {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
};

describe('nestingDepth', () => {
  it.each([
    ['a scalar', '42', 0],
    ['a string', '"x"', 0],
    ['an empty object', '{}', 1],
    ['an object holding an array', '{"a": []}', 2],
    ['brackets inside strings', '{"a": "[[[{{{"}', 1],
    ['escaped quotes inside strings', '{"a": "\\"[[["}', 1],
    ['an escaped backslash before a closing quote', '["\\\\", [[]]]', 3],
    ['siblings', '[[1], [2], [[3]]]', 3],
    ['a deep array', deepArray(10_000), 10_000],
    ['a deep object', deepObject(500), 500],
  ])('%s', (_name, text, depth) => {
    expect(nestingDepth(text)).toBe(depth);
  });

  it('stops counting once past the limit', () => {
    expect(nestingDepth(deepArray(1_000_000), 20)).toBe(21);
  });

  it('equals the depth of the parsed value for any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        expect(nestingDepth(JSON.stringify(value))).toBe(depthOf(value));
        expect(nestingDepth(JSON.stringify(value, null, 2))).toBe(depthOf(value));
      }),
    );
  });

  it('does not overflow the stack on ten million levels', () => {
    expect(nestingDepth(deepArray(10_000_000))).toBe(10_000_000);
  });
});

describe('parseJsonWithin', () => {
  const refusal = (body: string, limits = BODY_LIMITS) => {
    try {
      parseJsonWithin(body, limits);
    } catch (error) {
      expect(error).toBeInstanceOf(BadRequest);
      return (error as BadRequest).message;
    }
    throw new Error('expected a refusal');
  };

  it.each([
    ['at the depth limit', deepArray(BODY_LIMITS.maxDepth), BODY_LIMITS],
    ['at the import depth limit', deepObject(IMPORT_BODY_LIMITS.maxDepth), IMPORT_BODY_LIMITS],
    [
      'at the import size limit',
      JSON.stringify({ a: 'x'.repeat((IMPORT_BODY_LIMITS.maxBytes ?? 0) - 8) }),
      IMPORT_BODY_LIMITS,
    ],
  ])('accepts a body %s', (_name, body, limits) => {
    expect(() => parseJsonWithin(body, limits)).not.toThrow();
    expect(() => parseJsonWithin(Buffer.from(body), limits)).not.toThrow();
  });

  it.each([
    ['one level too deep', deepArray(BODY_LIMITS.maxDepth + 1), BODY_LIMITS, /more than 20 levels/],
    ['10,000 levels deep', deepArray(10_000), BODY_LIMITS, /more than 20 levels/],
    ['an import body too deep', deepObject(IMPORT_BODY_LIMITS.maxDepth + 1), IMPORT_BODY_LIMITS, /10 levels/],
    [
      'an import body one byte too large',
      JSON.stringify({ a: 'x'.repeat((IMPORT_BODY_LIMITS.maxBytes ?? 0) - 7) }),
      IMPORT_BODY_LIMITS,
      /65537 bytes; at most 65536/,
    ],
    [
      'multi-byte characters counted as bytes',
      JSON.stringify({ a: 'é'.repeat(40_000) }),
      IMPORT_BODY_LIMITS,
      /bytes/,
    ],
    ['empty', '  ', BODY_LIMITS, /empty/],
    ['malformed', '{"a": ', BODY_LIMITS, /Malformed/],
  ])('refuses a body %s with a 400', (_name, body, limits, message) => {
    expect(refusal(body, limits)).toMatch(message);
  });

  it('keeps every member name as data, __proto__ and constructor included', () => {
    const value = parseJsonWithin('{"__proto__": {"polluted": "yes"}, "constructor": "c"}') as Record<
      string,
      unknown
    >;
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
