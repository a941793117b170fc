/**
 * A lazy merge of sorted streams: the index partitions of a listing (own images, public ones, the
 * images shared with the caller, ...) are each sorted by their index sort key, so the listing in
 * that order is their merge, read a page at a time and only as far as the listing needs
 * (docs/api.md#listing-images). Pure: a stream is a function that reads one page.
 */

/** One page of a stream: its items in order, and where the next page starts (absent: the end). */
export interface StreamPage<T> {
  readonly items: readonly T[];
  readonly next?: unknown;
}

/** Reads the page of a stream that starts at `start` (undefined: the first), about `size` items. */
export type ReadPage<T> = (start: unknown, size: number) => Promise<StreamPage<T>>;

/** Largest page asked of a stream (DynamoDB's Query returns at most 1 MB whatever the limit). */
export const MAX_STREAM_PAGE = 1000;

/**
 * Reads one stream page by page. The first page is as big as the caller expects to need; later
 * pages double, so a stream whose items are mostly filtered out costs few round trips.
 */
class Cursor<T> {
  private buffer: readonly T[] = [];
  private index = 0;
  private start: unknown;
  private done = false;

  constructor(
    private readonly read: ReadPage<T>,
    private size: number,
  ) {}

  async peek(): Promise<T | undefined> {
    while (this.index >= this.buffer.length && !this.done) {
      const page = await this.read(this.start, this.size);
      this.buffer = page.items;
      this.index = 0;
      this.start = page.next;
      this.done = page.next === undefined;
      this.size = Math.min(this.size * 2, MAX_STREAM_PAGE);
    }
    return this.buffer[this.index];
  }

  take(): void {
    this.index++;
  }
}

/**
 * Yields the items of every stream in one order: ascending by `key`, or descending. Each stream
 * must already be in that order. Items with equal keys (one image reached through two streams)
 * come out one after the other, in stream order, so a caller drops repeats by looking back one
 * key. Pages are read only when the merge reaches them.
 */
export async function* mergeStreams<T>(
  streams: readonly ReadPage<T>[],
  key: (item: T) => string,
  descending: boolean,
  firstPageSize: number,
): AsyncGenerator<T> {
  const cursors = streams.map(
    (read) => new Cursor(read, Math.max(1, Math.min(firstPageSize, MAX_STREAM_PAGE))),
  );
  for (;;) {
    let best: { cursor: Cursor<T>; item: T; key: string } | undefined;
    for (const cursor of cursors) {
      const item = await cursor.peek();
      if (item === undefined) continue;
      const itemKey = key(item);
      if (!best || (descending ? itemKey > best.key : itemKey < best.key))
        best = { cursor, item, key: itemKey };
    }
    if (!best) return;
    best.cursor.take();
    yield best.item;
  }
}

/** Every item of a stream, in order (for listings sorted in memory). */
export const drainStream = async <T>(read: ReadPage<T>): Promise<T[]> => {
  const all: T[] = [];
  for await (const item of mergeStreams([read], () => '', false, MAX_STREAM_PAGE)) all.push(item);
  return all;
};
