/** Chunkings for streaming tests: how a byte stream may be cut into the chunks a reader sees. */
import fc from 'fast-check';

/**
 * Chunk sizes, used in a cycle: tiny ones split fields, medium and big ones carry whole regions.
 * At least one big size, so that a cycle moves through megabytes of data in a few thousand chunks.
 */
export const chunkings = fc
  .tuple(
    fc.array(fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 4096 })), {
      maxLength: 10,
    }),
    fc.integer({ min: 4097, max: 300_000 }),
    fc.nat(),
  )
  .map(([sizes, big, at]) => {
    const all = [...sizes];
    all.splice(at % (sizes.length + 1), 0, big);
    return all;
  });

/** `bytes` cut into chunks of the given sizes, cycling through them. */
export function* chunked(bytes: Uint8Array, sizes: readonly number[]): Generator<Uint8Array> {
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length] ?? 1);
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}
