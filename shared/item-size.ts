/**
 * The size of an item as DynamoDB counts it against its 400 KB item limit: for every attribute,
 * the UTF-8 bytes of its name plus the size of its value (docs/configuration.md#item-budget).
 * Values are sized as the document client marshals them (`undefined` left out, strings as S,
 * numbers as N, arrays as L, plain objects as M). Pure: no AWS, no I/O.
 *
 * The number rule and the overheads of lists and maps (3 bytes, plus 1 byte per element) are the
 * ones the local DynamoDB applies; strings are counted in UTF-8 bytes as DynamoDB does, where the
 * local emulator counts UTF-16 code units (kinder to non-ASCII text).
 */

/** DynamoDB's item size limit: 400 KB, counted in bytes of 1024. */
export const DYNAMODB_ITEM_LIMIT = 400 * 1024;

export const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Size of a number: one byte per two significant digits, plus one (plus the sign). */
const numberSize = (value: number): number => {
  if (value === 0) return 1;
  const [mantissa = '0', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '').replace(/0+$/, '').length;
  const exponent = Number(exponentText);
  return 1 + Math.ceil(digits / 2) + (digits % 2 || exponent % 2 ? 0 : 1) + (value < 0 ? 1 : 0);
};

/** Size of one value as stored, or `undefined` when the document client would leave it out. */
export const valueSize = (value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number') return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) {
    return value.reduce<number>((sum, element) => {
      const size = valueSize(element);
      return size === undefined ? sum : sum + 1 + size;
    }, 3);
  }
  if (value instanceof Set) {
    return [...value].reduce<number>((sum, element) => sum + (valueSize(element) ?? 0), 0);
  }
  if (typeof value === 'object') {
    return Object.entries(value).reduce<number>((sum, [name, element]) => {
      const size = valueSize(element);
      return size === undefined ? sum : sum + 1 + utf8Bytes(name) + size;
    }, 3);
  }
  throw new TypeError(`A ${typeof value} cannot be stored in DynamoDB.`);
};

/** Size of a whole item: attribute names plus values. */
export const itemSize = (item: Readonly<Record<string, unknown>>): number =>
  Object.entries(item).reduce((sum, [name, value]) => {
    const size = valueSize(value);
    return size === undefined ? sum : sum + utf8Bytes(name) + size;
  }, 0);
