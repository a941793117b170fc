import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataTooLarge, digestBytes, digestStream } from '#shared/data/digest';
import { digestStreamParallel } from '#shared/data/parallel-digest';

const stream = async function* (chunks: Uint8Array[]) {
  yield* chunks;
};

describe('digestStreamParallel', () => {
  it('gives exactly the single-thread digest, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300_000 }), { maxLength: 12 }), async (chunks) => {
        const whole = Buffer.concat(chunks);
        expect(await digestStreamParallel(stream(chunks))).toEqual(digestBytes(whole));
      }),
      { numRuns: 25 },
    );
  });

  it('handles several MiB through its buffer pool', async () => {
    const chunks = Array.from({ length: 90 }, (_, i) => Buffer.alloc(100_003, i));
    expect(await digestStreamParallel(stream(chunks))).toEqual(await digestStream(stream(chunks)));
  });

  it('gives the same digest for chunks of whole ranges (several MiB each)', async () => {
    const chunks = Array.from({ length: 3 }, (_, i) => Buffer.alloc(2.5 * 1024 * 1024 + i, i + 1));
    expect(await digestStreamParallel(stream(chunks))).toEqual(digestBytes(Buffer.concat(chunks)));
  });

  it('stops at maxBytes like digestStream', async () => {
    const chunks = [Buffer.alloc(600_000), Buffer.alloc(600_000)];
    const error = await digestStreamParallel(stream(chunks), { maxBytes: 1_000_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataTooLarge);
    expect(error).toMatchObject({ limit: 1_000_000, size: 1_200_000 });
  });
});
