import { describe, expect, it } from 'vitest';
import { DYNAMODB_ITEM_LIMIT, itemSize, valueSize } from '#shared/item-size';

describe('itemSize: attribute names plus values, as DynamoDB counts them', () => {
  it.each<[string, unknown, number]>([
    ['an ASCII string', 'abc', 3],
    ['a string in UTF-8 bytes, not characters', 'é€𐀀', 2 + 3 + 4],
    ['null', null, 1],
    ['a boolean', true, 1],
    ['zero', 0, 1],
    ['a one-digit number', 7, 2],
    ['two significant digits', 12, 2],
    ['trailing zeros do not count', 1_000_000, 2],
    ['a 16-digit integer', Number.MAX_SAFE_INTEGER, 9],
    ['a negative number', -12, 3],
    ['an empty list', [], 3],
    ['a list: 3 bytes plus 1 per element', ['a', 'bc'], 3 + 2 + 3],
    ['an empty map', {}, 3],
    ['a map: 3 bytes plus name and 1 per entry', { a: 'x', bc: 1 }, 3 + (1 + 1 + 1) + (1 + 2 + 2)],
    [
      'undefined entries are left out, as the document client does',
      { a: undefined, b: [undefined, 'x'] },
      3 + (1 + 1 + 3 + 2),
    ],
  ])('%s', (_, value, size) => {
    expect(valueSize(value)).toBe(size);
  });

  it('sums names and values of the attributes, leaving undefined ones out', () => {
    expect(itemSize({ pk: 'IMAGE#1', name: 'cirros', size: 12, gone: undefined })).toBe(
      2 + 7 + 4 + 6 + 4 + 2,
    );
  });

  it('refuses what cannot be stored', () => {
    expect(() => valueSize(() => 1)).toThrow(TypeError);
  });

  it('knows the limit: 400 KB of 1024 bytes', () => {
    expect(DYNAMODB_ITEM_LIMIT).toBe(409_600);
  });
});
