import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_IMAGE_MEMBER_QUOTA } from '#shared/config';
import { reply, toResult } from '#shared/http/handler';
import {
  encodedSize,
  LAMBDA_RESPONSE_LIMIT,
  LIST_ENTRIES_BUDGET,
  ResponseBudget,
  withinBudget,
} from '#shared/http/response-budget';
import { HISTORY_PAGE_LIMIT, historyPageView } from '#shared/images/history';
import { LIMITS } from '#shared/images/model';
import { imageView } from '#shared/images/view';
import { MEMBER_ID_PATTERN } from '#shared/members/model';
import { membersView } from '#shared/members/view';
import { queuedImage } from '#test/helpers/images';

/** The bytes Lambda counts: the serialized payload-v2 result, body string included. */
const resultBytes = (body: unknown) => Buffer.byteLength(JSON.stringify(toResult(reply(200, body))), 'utf8');

/** Entries with everything JSON escapes: quotes, backslashes, control characters, non-ASCII, lone surrogates. */
const entry = fc.dictionary(
  fc.string(),
  fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.string({ unit: fc.constantFrom('"', '\\', '\u0001', '\n', 'é', '😀', '\ud800', 'a') }),
    fc.integer(),
    fc.constant(null),
  ),
);

describe('encodedSize', () => {
  it('is exactly what an entry adds to the Lambda response, escaping included', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), (entries) => {
        const sum = entries.reduce((total, value) => total + encodedSize(value), 0);
        const expected =
          resultBytes({ images: [], next: '/v2/images?marker=x' }) + sum - (entries.length ? 1 : 0);
        expect(resultBytes({ images: entries, next: '/v2/images?marker=x' })).toBe(expected);
      }),
    );
  });

  it('counts a quote as four bytes and a control character as seven, as they travel', () => {
    const base = encodedSize('');
    expect(encodedSize('"') - base).toBe(4);
    expect(encodedSize('\u0001') - base).toBe(7);
    expect(encodedSize('é') - base).toBe(2);
  });
});

describe('ResponseBudget', () => {
  it('admits entries while they fit and never lets a page pass its budget', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 300 }), { maxLength: 40 }),
        fc.integer({ min: 10, max: 2000 }),
        (lengths, bytes) => {
          const budget = new ResponseBudget(bytes);
          const admitted: number[] = [];
          for (const length of lengths) {
            const value = 'x'.repeat(length);
            if (!budget.admit(value)) break;
            admitted.push(encodedSize(value));
          }
          const used = admitted.reduce((a, b) => a + b, 0);
          expect(budget.reserved).toBe(used);
          // The first entry always gets in; after it, the budget holds.
          if (admitted.length > 1) expect(used).toBeLessThanOrEqual(bytes);
          if (lengths.length > 0) expect(admitted.length).toBeGreaterThan(0);
          // Stopped early only when the next entry would not have fitted.
          const next = lengths[admitted.length];
          if (next !== undefined) expect(used + encodedSize('x'.repeat(next))).toBeGreaterThan(bytes);
        },
      ),
    );
  });

  it('reserves nothing for an entry it refuses', () => {
    const budget = new ResponseBudget(100);
    expect(budget.admit('x'.repeat(50))).toBe(true);
    const before = budget.reserved;
    expect(budget.admit('x'.repeat(80))).toBe(false);
    expect(budget.reserved).toBe(before);
    expect(budget.admit('x'.repeat(10))).toBe(true);
  });

  it('always admits a first entry, even one larger than the budget', () => {
    const budget = new ResponseBudget(10);
    expect(budget.admit('x'.repeat(100))).toBe(true);
    expect(budget.admit('y')).toBe(false);
  });
});

describe('withinBudget', () => {
  it('keeps the longest prefix that fits and says whether it cut', () => {
    const entries = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)];
    expect(withinBudget(entries, (e) => e, new ResponseBudget(90))).toEqual({
      entries: entries.slice(0, 2),
      cut: true,
    });
    expect(withinBudget(entries, (e) => e, new ResponseBudget(1000))).toEqual({ entries, cut: false });
  });
});

describe('the budget against the limit', () => {
  it('fits any one image a DynamoDB item can hold, and a full page with room for the envelope', () => {
    // The worst an entry can be: a 400 KB item whose property escapes to 7 bytes a byte.
    const image = queuedImage({ properties: { hostile: '\u0001'.repeat(400 * 1024) } });
    const largest = encodedSize(imageView(image));
    expect(largest).toBeLessThan(LIST_ENTRIES_BUDGET);
    // A page holds at most the budget (or one entry); what is left covers headers and links.
    const envelope = resultBytes({
      images: [],
      first: `/v2/images?${'q'.repeat(8192)}`,
      next: `/v2/images?${'q'.repeat(8192)}`,
      schema: '/v2/schemas/images',
    });
    expect(Math.max(LIST_ENTRIES_BUDGET, largest) + envelope).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
    // Even base64-encoded, a page would fit.
    expect((LIST_ENTRIES_BUDGET * 4) / 3 + envelope).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
  });

  // The two lists without paging must fit one response on their own, whatever they hold.
  it('fits the largest member list in one response: the quota at its maximum, ids that escape worst', () => {
    // `"` and `\` are allowed in member ids and take four bytes each as they travel.
    const id = `"\\`.repeat(128).slice(0, 255);
    expect(id).toMatch(MEMBER_ID_PATTERN);
    const at = new Date().toISOString();
    const members = Array.from({ length: MAX_IMAGE_MEMBER_QUOTA }, (_, i) => ({
      image_id: queuedImage().id,
      member_id: `${i}${id}`.slice(0, 255),
      status: 'rejected' as const,
      created_at: at,
      updated_at: at,
    }));
    expect(resultBytes(membersView(members))).toBeLessThan(LIST_ENTRIES_BUDGET);
  });

  it('fits a page of image history in one response: the most entries a page holds, reasons at their longest', () => {
    const entry = {
      version: Number.MAX_SAFE_INTEGER,
      from: 'queued' as const,
      to: 'killed' as const,
      trigger: 'uploadFail',
      actor: `user:${'"'.repeat(255)}@project:${'"'.repeat(255)}`,
      at: new Date().toISOString(),
      // Reasons are clipped to this many characters; these escape at 7 bytes a character.
      reason: '\u0001'.repeat(LIMITS.reasonLength),
      failure: 'size-mismatch',
    };
    const entries = Array.from({ length: HISTORY_PAGE_LIMIT }, () => entry);
    const body = historyPageView(queuedImage().id, { entries, more: true }, HISTORY_PAGE_LIMIT);
    expect(resultBytes(body)).toBeGreaterThan(HISTORY_PAGE_LIMIT * LIMITS.reasonLength * 7);
    expect(resultBytes(body)).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
  });
});
