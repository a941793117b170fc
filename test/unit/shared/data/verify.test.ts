/**
 * The verify pass (shared/data/verify.ts): the digest and the inspection of the data whatever its
 * chunking, the byte limit, and the time budget, which stops the read even when the source never
 * yields again.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataTooLarge, digestBytes } from '#shared/data/digest';
import { type ChunkSource, VerificationTimedOut, verifyData } from '#shared/data/verify';
import { inspectBytes } from '#shared/image-format/inspector';
import { chunked, chunkings } from '#test/helpers/chunks';

/** A source over `bytes` in chunks of `sizes`; records whether it was stopped by its signal. */
const sourceOf = (bytes: Uint8Array, sizes: readonly number[] = [65_536]) => {
  const seen = { opened: false, aborted: false };
  const source: ChunkSource = (signal) => {
    seen.opened = true;
    signal.addEventListener('abort', () => {
      seen.aborted = true;
    });
    return (async function* () {
      yield* chunked(bytes, sizes);
    })();
  };
  return { source, seen };
};

/** A qcow2 v3 header (104 bytes, as qemu writes it) with a 1 GiB virtual size, and some data. */
const qcow2 = () => {
  const bytes = Buffer.alloc(300_000);
  bytes.writeUInt32BE(0x514649fb, 0);
  bytes.writeUInt32BE(3, 4);
  bytes.writeUInt32BE(16, 20);
  bytes.writeBigUInt64BE(1024n ** 3n, 24);
  bytes.writeUInt32BE(104, 100);
  return bytes;
};

const never = (): Promise<never> => new Promise(() => {});

describe('verifyData', () => {
  it('gives the digest and the inspection of the data, whatever its chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ maxLength: 200_000 }), fc.constant(qcow2())),
        chunkings,
        async (bytes, sizes) => {
          const { source } = sourceOf(bytes, sizes);
          const verified = await verifyData(source, { inspect: true, expectedBytes: bytes.byteLength });
          expect(verified.digest).toEqual(digestBytes(bytes));
          expect(verified.inspection).toEqual(inspectBytes(bytes));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('inspects only when asked', async () => {
    const { source } = sourceOf(qcow2());
    expect((await verifyData(source)).inspection).toBeNull();
    const inspected = await verifyData(sourceOf(qcow2()).source, { inspect: true });
    expect(inspected.inspection?.matches).toMatchObject([{ format: 'qcow2', virtualSize: 1024 ** 3 }]);
  });

  it('stops at maxBytes with DataTooLarge, and stops the source', async () => {
    const { source, seen } = sourceOf(new Uint8Array(1_000_000), [100_000]);
    const error = await verifyData(source, { maxBytes: 250_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataTooLarge);
    expect(seen.aborted).toBe(true);
  });

  it('refuses at once, without opening the source, when no time is left after the reserve', async () => {
    const { source, seen } = sourceOf(new Uint8Array(10));
    const error = await verifyData(source, { budget: { remainingMs: () => 30_000 } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VerificationTimedOut);
    expect(error).toMatchObject({ bytes: 0 });
    expect(seen.opened).toBe(false);
  });

  it('stops an endless stream once the budget is spent, with the bytes read so far', async () => {
    let aborted = false;
    const endless: ChunkSource = (signal) => {
      signal.addEventListener('abort', () => {
        aborted = true;
      });
      return (async function* () {
        while (!signal.aborted) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          yield new Uint8Array(1000);
        }
      })();
    };
    const started = Date.now();
    const error = await verifyData(endless, { budget: { remainingMs: () => 60 }, reserveMs: 10 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VerificationTimedOut);
    expect((error as VerificationTimedOut).bytes).toBeGreaterThan(0);
    expect((error as VerificationTimedOut).ms).toBeGreaterThanOrEqual(45);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(aborted).toBe(true);
  });

  it('stops a source that hangs and ignores its signal', async () => {
    const stuck: ChunkSource = () => ({ [Symbol.asyncIterator]: () => ({ next: never }) });
    await expect(
      verifyData(stuck, { budget: { remainingMs: () => 40 }, reserveMs: 10 }),
    ).rejects.toBeInstanceOf(VerificationTimedOut);
  });

  it('keeps no chunk once it is hashed (memory stays flat over 256 MiB)', async () => {
    const MiB = 1024 ** 2;
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const big: ChunkSource = () =>
      (async function* () {
        for (let i = 0; i < 256; i++) {
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
          yield Buffer.alloc(MiB, i);
        }
      })();
    const { digest } = await verifyData(big, { inspect: true, budget: { remainingMs: () => 900_000 } });
    expect(digest.size).toBe(256 * MiB);
    // What stays reachable is a few chunks (the collector may lag a little).
    expect(peak).toBeLessThan(96 * MiB);
  });

  it('passes on what the source throws', async () => {
    const failing: ChunkSource = () =>
      (async function* () {
        yield new Uint8Array(10);
        throw new Error('connection reset');
      })();
    await expect(verifyData(failing, { budget: { remainingMs: () => 900_000 } })).rejects.toThrow(
      'connection reset',
    );
  });
});
