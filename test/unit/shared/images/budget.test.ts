import { describe, expect, it } from 'vitest';
import { budgetOf, clipText, requireWithinBudget, worstCaseItem } from '#shared/images/budget';
import { LIMITS } from '#shared/images/model';
import { itemSize } from '#shared/item-size';
import { imageOfBudget, queuedImage } from '#test/helpers/images';

describe('clipText', () => {
  it('keeps short text, clips long text with an ellipsis, never splitting a surrogate pair', () => {
    expect(clipText('abc', 3)).toBe('abc');
    expect(clipText('abcd', 3)).toBe('ab…');
    const clipped = clipText('a𐀀𐀀𐀀', 3);
    expect(clipped).toBe('a…');
    expect(clipped.length).toBeLessThanOrEqual(3);
  });
});

describe('the image budget', () => {
  it('reserves room for the bookkeeping of a whole lifecycle, and leaves the rest to the client', () => {
    const empty = queuedImage();
    expect(itemSize(empty as unknown as Record<string, unknown>)).toBeLessThan(1_000);
    const reserve = budgetOf(empty);
    expect(reserve).toBeGreaterThan(15_000);
    expect(reserve).toBeLessThan(20_000);
  });

  it('accepts an image of exactly the budget and refuses one byte more (413)', () => {
    const exact = imageOfBudget(LIMITS.imageRecordBytes);
    expect(budgetOf(exact)).toBe(LIMITS.imageRecordBytes);
    expect(() => requireWithinBudget(exact)).not.toThrow();
    const over = imageOfBudget(LIMITS.imageRecordBytes + 1);
    expect(() => requireWithinBudget(over)).toThrow(expect.objectContaining({ status: 413 }));
  });

  it('counts a property value in UTF-8 bytes: at most 65,535', () => {
    const at = queuedImage({ properties: { note: '€'.repeat(21_845) } });
    expect(() => requireWithinBudget(at)).not.toThrow();
    const over = queuedImage({ properties: { note: `${'€'.repeat(21_845)}x` } });
    expect(() => requireWithinBudget(over)).toThrow(/takes 65536 bytes; at most 65535/);
  });

  it('never refuses a write that does not grow the image (an image stored before the limits)', () => {
    const big = imageOfBudget(LIMITS.imageRecordBytes + 1000);
    expect(() => requireWithinBudget({ ...big, name: 'x' }, big)).not.toThrow();
    expect(() =>
      requireWithinBudget({ ...big, properties: { ...big.properties, more: 'y' } }, big),
    ).toThrow();
  });

  it('does not count what the service writes itself: reserved properties are counted at their largest anyway', () => {
    const image = queuedImage();
    const locked = { ...image, properties: { os_glance_import_task: 'x'.repeat(10_000) } };
    expect(budgetOf(locked)).toBe(budgetOf(image));
    expect(itemSize(worstCaseItem(image))).toBe(budgetOf(image));
  });
});
