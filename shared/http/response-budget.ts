/**
 * The response budget of list pages (docs/api.md#response-size, decision D12). A Lambda function answers with
 * at most 6 MB (6,291,456 bytes) of JSON, and the API Gateway payload v2 result carries our body
 * inside it as a JSON string, so every quote, backslash and control character of the body is
 * escaped once more. A list page stops adding entries before it could cross that limit and ends
 * with a `next` link instead, whatever the `limit` and however large the entries: no page can
 * fail for its size.
 */

/** Lambda's limit on a synchronous response, the serialized result object included. */
export const LAMBDA_RESPONSE_LIMIT = 6_291_456;

/**
 * What the entries of one page may take, measured as they travel (`encodedSize`). 4 MiB leaves
 * more than 2 MB for the status, headers, the envelope and its links, and would still fit if the
 * body were ever sent base64-encoded (4/3 of 4 MiB is 5.3 MiB).
 */
export const LIST_ENTRIES_BUDGET = 4 * 1024 * 1024;

/**
 * The bytes one entry adds to the Lambda response: its JSON, escaped again as part of the body
 * string, plus the comma that separates it from the next.
 */
export const encodedSize = (entry: unknown): number =>
  Buffer.byteLength(JSON.stringify(JSON.stringify(entry)), 'utf8') - 2 + 1;

/**
 * Room left for the entries of one list page. The first entry is always admitted, so every page
 * makes progress: an entry comes from one DynamoDB item (at most 400 KB), which escapes to at most
 * 7 bytes per byte (a control character becomes `\\u0001`), below the budget.
 */
export class ResponseBudget {
  private used = 0;
  private admitted = 0;

  constructor(readonly bytes: number = LIST_ENTRIES_BUDGET) {}

  /** Reserves room for one more entry; false, reserving nothing, when it does not fit. */
  admit(entry: unknown): boolean {
    const size = encodedSize(entry);
    if (this.admitted > 0 && this.used + size > this.bytes) return false;
    this.used += size;
    this.admitted++;
    return true;
  }

  /** Bytes reserved so far. */
  get reserved(): number {
    return this.used;
  }
}

/**
 * The longest prefix of `entries` whose views fit one page, for lists built in memory; `cut` says
 * whether entries were left out (the page then needs a `next` link).
 */
export const withinBudget = <T>(
  entries: readonly T[],
  view: (entry: T) => unknown,
  budget = new ResponseBudget(),
): { readonly entries: T[]; readonly cut: boolean } => {
  const kept: T[] = [];
  for (const entry of entries) {
    if (!budget.admit(view(entry))) return { entries: kept, cut: true };
    kept.push(entry);
  }
  return { entries: kept, cut: false };
};
