/**
 * The verify pass (docs/uploads.md#verification): one read of image data that computes its size,
 * md5 and sha512 (D7) and, when asked, inspects its disk format on the way
 * (docs/image-formats.md), stopping as soon as the data passes a byte limit or its time is up.
 *
 * The S3 trigger, the sweeper and the import's Verify step run it on a ranged S3 read
 * (`ObjectStore.openRanged`); the source is any chunk stream that stops when its signal aborts (an
 * HTTP body would do), so the same pass can verify data wherever it lives. Deciding what the result
 * means for the image (declared size, quota, format rules) is the caller's business.
 */
import { untilAborted } from '#shared/abort';
import { FormatInspector, type Inspection } from '#shared/image-format/inspector';
import type { Digest } from './digest.ts';
import { digestStreamFast } from './parallel-digest.ts';

/**
 * The data to verify: opened with a signal that stops the read (and the requests behind it). The
 * pass hashes, inspects or copies each chunk before it asks for the next, so a source may fill the
 * same buffers again (`reuseBuffers` of `ObjectStore.openRanged`).
 */
export type ChunkSource = (signal: AbortSignal) => AsyncIterable<Uint8Array>;

/** The time an invocation has left: a Lambda context's `getRemainingTimeInMillis`. */
export interface TimeBudget {
  readonly remainingMs: () => number;
}

/**
 * Kept back from the time left when verifying starts: what the writes after it (the image's
 * transition, deleting a refused object) need, with room to spare.
 */
export const VERIFY_RESERVE_MS = 30_000;

/** The pass ran out of time; `bytes` were read in `ms` milliseconds. */
export class VerificationTimedOut extends Error {
  constructor(
    readonly bytes: number,
    readonly ms: number,
  ) {
    super(`verification stopped after ${bytes} bytes and ${ms} ms: out of time`);
    this.name = 'VerificationTimedOut';
  }
}

export interface VerifyOptions {
  /** Stop with `DataTooLarge` as soon as the data passes this many bytes. */
  readonly maxBytes?: number;
  /** The size the data should have (picks the two-thread digest for large data). */
  readonly expectedBytes?: number;
  /** Run the disk-format inspector on the way (only `container_format=bare` images need it). */
  readonly inspect?: boolean;
  /** Without one, the pass takes the time it takes. */
  readonly budget?: TimeBudget;
  /** Default `VERIFY_RESERVE_MS`. */
  readonly reserveMs?: number;
}

export interface Verified {
  readonly digest: Digest;
  /** null when not asked for. */
  readonly inspection: Inspection | null;
}

/**
 * Verifies the data `source` delivers. Throws `DataTooLarge` past `maxBytes`,
 * `VerificationTimedOut` once the budget (less the reserve) is spent, and whatever the source
 * throws; in every case the read is stopped.
 */
export const verifyData = async (source: ChunkSource, options: VerifyOptions = {}): Promise<Verified> => {
  const started = Date.now();
  const available = options.budget
    ? options.budget.remainingMs() - (options.reserveMs ?? VERIFY_RESERVE_MS)
    : Number.POSITIVE_INFINITY;
  let bytes = 0;
  const timedOut = () => new VerificationTimedOut(bytes, Date.now() - started);
  if (available <= 0) throw timedOut();

  const controller = new AbortController();
  const timer = Number.isFinite(available)
    ? setTimeout(() => controller.abort(timedOut()), available)
    : undefined;
  const inspector = options.inspect ? new FormatInspector() : undefined;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const iterator = source(controller.signal)[Symbol.asyncIterator]();
    let done = false;
    try {
      for (;;) {
        // Out of time ends the wait for the next chunk, even from a source slow to notice the abort.
        const next = await untilAborted(iterator.next(), controller.signal);
        if (next.done) {
          done = true;
          return;
        }
        bytes += next.value.byteLength;
        inspector?.update(next.value);
        yield next.value;
      }
    } finally {
      // Not awaited: a source still waiting on a request finishes once the abort reaches it.
      if (!done) void iterator.return?.()?.catch(() => {});
    }
  }

  try {
    const digest = await digestStreamFast(chunks(), {
      maxBytes: options.maxBytes,
      expectedBytes: options.expectedBytes,
    });
    return { digest, inspection: inspector ? inspector.finish() : null };
  } catch (error) {
    if (controller.signal.reason instanceof VerificationTimedOut) throw controller.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    controller.abort(new Error('verification ended'));
  }
};
