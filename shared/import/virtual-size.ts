/**
 * `virtual_size` from the data's first bytes, read during the verify pass (docs/lifecycle.md#format-inspection, in its
 * simplest form): Glance inspects only `bare` containers; a `raw` disk's virtual size is its byte
 * size, a `qcow2` one's is in its header (big-endian u64 at offset 24 after the `QFI\xfb` magic).
 * Other formats are left null (no full format inspector here).
 */

export const HEADER_BYTES = 512;

const QCOW2_MAGIC = 0x514649fb;

export const virtualSizeOf = (
  image: { disk_format: string | null; container_format: string | null },
  header: Uint8Array,
  size: number,
): number | null => {
  if (image.container_format !== 'bare') return null;
  if (image.disk_format === 'raw') return size;
  if (image.disk_format === 'qcow2' && header.byteLength >= 32) {
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (view.getUint32(0) !== QCOW2_MAGIC) return null;
    const virtual = view.getBigUint64(24);
    return virtual <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(virtual) : null;
  }
  return null;
};

/** Passes a stream through unchanged, keeping its first `HEADER_BYTES` bytes in `header()`. */
export const headerTap = (chunks: AsyncIterable<Uint8Array>) => {
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  async function* tapped(): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      if (keptBytes < HEADER_BYTES) {
        const part = chunk.subarray(0, HEADER_BYTES - keptBytes);
        kept.push(Uint8Array.from(part));
        keptBytes += part.byteLength;
      }
      yield chunk;
    }
  }
  return { stream: tapped(), header: () => Buffer.concat(kept, keptBytes) };
};
