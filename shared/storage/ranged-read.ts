/**
 * Reading a large object as one ordered stream with several ranged requests in flight
 * (docs/uploads.md#ranged-reads). One S3 GetObject stream from Lambda delivers tens of MB/s, less
 * than the hashing pass that consumes it; a window of ranges fetched side by side and handed out
 * in order makes the consumer, not one connection, the bound.
 *
 * Memory is fixed by the window, whatever the object's size: at most `window` ranges are being
 * fetched or wait their turn, plus the one the consumer holds, so `(window + 1) × rangeBytes`.
 * The next range is requested only when the consumer takes one, so a slow consumer slows the
 * requests down instead of piling ranges up.
 *
 * Independent of S3: a range is whatever `fetchRange` returns (the object store asks S3 with
 * `Range` and `If-Match`; an HTTPS source with `Range` headers would do the same).
 */
import { untilAborted } from '#shared/abort';

const MiB = 1024 ** 2;

/** The defaults: 8 ranges of 8 MiB in flight, 64 MiB in all, each range tried up to 3 times. */
export const RANGED_READ = { rangeBytes: 8 * MiB, window: 8, attempts: 3 } as const;

/** Fetches bytes `[start, end)`; must honour `signal` (the reader aborts on an early stop). */
export type FetchRange = (start: number, end: number, signal: AbortSignal) => Promise<Uint8Array>;

export interface RangedReadOptions {
  readonly rangeBytes?: number;
  /** Ranges in flight at once. */
  readonly window?: number;
  /** Tries per range for errors `retryable` accepts (a connection reset mid-body...). */
  readonly attempts?: number;
  /** Which errors are worth another try of the same range; default: none. */
  readonly retryable?: (error: unknown) => boolean;
  /** Stops the read: in-flight requests are aborted and the stream throws the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Takes back a chunk the consumer is done with: called once the consumer asks for the next one,
   * and for a range refused as short. A `fetchRange` that fills buffers it reuses gets them back
   * here; the chunks are then the consumer's only until it asks for the next.
   */
  readonly recycle?: (chunk: Uint8Array) => void;
}

/** A range came back with another length than asked for (a truncated body). */
export class ShortRange extends Error {
  constructor(
    readonly start: number,
    readonly expected: number,
    readonly received: number,
  ) {
    super(`range at ${start} returned ${received} of ${expected} bytes`);
    this.name = 'ShortRange';
  }
}

/**
 * The `size` bytes of an object as chunks in order, one chunk per range, fetched `window` at a time.
 * Stopping early (a `break`, a thrown error, the signal) aborts every request in flight.
 */
export async function* rangedChunks(
  size: number,
  fetchRange: FetchRange,
  options: RangedReadOptions = {},
): AsyncGenerator<Uint8Array> {
  const rangeBytes = options.rangeBytes ?? RANGED_READ.rangeBytes;
  const window = options.window ?? RANGED_READ.window;
  const attempts = options.attempts ?? RANGED_READ.attempts;
  const retryable = options.retryable ?? (() => false);
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid object size ${size}`);
  if (!(rangeBytes >= 1 && window >= 1 && attempts >= 1)) throw new RangeError('invalid ranged read options');

  const controller = new AbortController();
  const stop = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  const signal = controller.signal;

  const fetchOne = async (index: number): Promise<Uint8Array> => {
    const start = index * rangeBytes;
    const end = Math.min(size, start + rangeBytes);
    for (let attempt = 1; ; attempt++) {
      try {
        signal.throwIfAborted();
        const bytes = await fetchRange(start, end, signal);
        if (bytes.byteLength !== end - start) {
          options.recycle?.(bytes);
          throw new ShortRange(start, end - start, bytes.byteLength);
        }
        return bytes;
      } catch (error) {
        if (signal.aborted) throw signal.reason ?? error;
        if (attempt >= attempts || !(error instanceof ShortRange || retryable(error))) throw error;
      }
    }
  };

  const count = Math.ceil(size / rangeBytes);
  const queue: Promise<Uint8Array>[] = [];
  let next = 0;
  const request = () => {
    const pending = fetchOne(next++);
    // Awaited in order below; a failure of a later range must not surface as unhandled meanwhile.
    pending.catch(() => {});
    queue.push(pending);
  };
  try {
    while (next < count && queue.length < window) request();
    while (queue.length > 0) {
      // An abort ends the wait at once, even if a request is slow to notice it.
      const bytes = await untilAborted(queue.shift() as Promise<Uint8Array>, signal);
      if (next < count) request();
      yield bytes;
      // The consumer asked for the next chunk: this one is no longer its.
      options.recycle?.(bytes);
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
    // Stopped early: the requests still in flight are abandoned, and their connections freed.
    if (queue.length > 0) controller.abort(new Error('ranged read stopped'));
  }
}
