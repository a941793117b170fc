/**
 * The item size the service computes is the one DynamoDB enforces: on dynalite, an item of exactly
 * 400 KB by `itemSize` is stored and one byte more is refused, whatever its shape (ASCII text,
 * where the emulator counts as DynamoDB does). Non-ASCII text is counted in UTF-8 bytes, as on
 * AWS, which is never less than the emulator's count.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DYNAMODB_ITEM_LIMIT, itemSize } from '#shared/item-size';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';

let db: DynamoFixture;
beforeAll(async () => {
  db = await startDynamo();
});
afterAll(() => db.stop());

const put = (item: Record<string, unknown>) =>
  db.doc.send(new PutCommand({ TableName: db.emulators.tableName, Item: item })).then(
    () => 'stored',
    (error: Error) => (/size/i.test(error.message) ? 'too large' : error.message),
  );

/** `item` padded with one string attribute to exactly `size` bytes by `itemSize`. */
const padded = (item: Record<string, unknown>, size: number) => {
  const filler = size - itemSize(item) - 'pad'.length;
  return { ...item, pad: 'x'.repeat(filler) };
};

// Names the document client marshals as prototypes rather than data (`__proto__`) are another
// matter (how property names round-trip), not the size rule.
const name = (text: string) => text !== '' && text !== '__proto__';
const ascii = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789 -_#'),
  maxLength: 40,
});
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    ascii,
    fc.integer(),
    fc.integer().map((n) => n / 1000),
    fc.boolean(),
    fc.constant(null),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 5 }),
    fc.dictionary(ascii.filter(name), tie('node'), { maxKeys: 5 }),
  ),
})).node;

it('stores an item of exactly the limit and refuses one byte more, whatever its shape', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.dictionary(
        ascii.filter((key) => name(key) && key !== 'pad'),
        value,
        { maxKeys: 8 },
      ),
      async (attributes) => {
        n += 1;
        const item = { ...attributes, pk: `size-${n}`, sk: 'x' };
        expect(await put(padded(item, DYNAMODB_ITEM_LIMIT))).toBe('stored');
        expect(await put(padded({ ...item, sk: 'y' }, DYNAMODB_ITEM_LIMIT + 1))).toBe('too large');
      },
    ),
    { numRuns: 25 },
  );
});

it('counts non-ASCII text in UTF-8 bytes, never less than the emulator does', async () => {
  const item = { pk: 'utf8', sk: 'x', text: '€'.repeat(1000) };
  expect(itemSize(item)).toBe(2 + 4 + 2 + 1 + 4 + 3000);
  expect(await put(padded(item, DYNAMODB_ITEM_LIMIT))).toBe('stored');
});
