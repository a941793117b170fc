/**
 * The small part of Glance's format inspection (docs/lifecycle.md#format-inspection) the finaliser does on the first bytes
 * it hashes anyway: `virtual_size` for `raw` (the byte size) and `qcow2` (from the header), and a
 * refusal of data declared `qcow2` that is not qcow2 (Glance 2025.1+ `require_image_format_match`).
 * As in Glance, only `container_format=bare` images are inspected. Other disk formats (vmdk, vhd,
 * vhdx, vdi, iso, ploop, ami/ari/aki) get `virtual_size = null`, which Glance also shows whenever it
 * does not inspect; their data is accepted unchecked.
 */

/** How many leading bytes inspection needs. */
export const INSPECT_BYTES = 512;

const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"

export type Inspection =
  | { readonly ok: true; readonly virtual_size: number | null }
  | { readonly ok: false; readonly reason: string };

export const inspectImageData = (
  image: { disk_format: string | null; container_format: string | null },
  head: Uint8Array,
  size: number,
): Inspection => {
  if (image.container_format !== 'bare') return { ok: true, virtual_size: null };
  if (image.disk_format === 'raw') return { ok: true, virtual_size: size };
  if (image.disk_format === 'qcow2') {
    const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
    if (bytes.length < 32 || bytes.readUInt32BE(0) !== QCOW2_MAGIC) {
      return { ok: false, reason: "Image data does not match disk_format 'qcow2' (no qcow2 header)." };
    }
    const version = bytes.readUInt32BE(4);
    const virtualSize = bytes.readBigUInt64BE(24);
    if ((version !== 2 && version !== 3) || virtualSize > BigInt(Number.MAX_SAFE_INTEGER)) {
      return { ok: false, reason: 'Image data has an unsupported or corrupt qcow2 header.' };
    }
    return { ok: true, virtual_size: Number(virtualSize) };
  }
  return { ok: true, virtual_size: null };
};

/** Keeps the first `INSPECT_BYTES` of a chunk stream while passing every chunk through. */
export const keepHead = (chunks: AsyncIterable<Uint8Array>) => {
  const parts: Uint8Array[] = [];
  let kept = 0;
  const stream = (async function* () {
    for await (const chunk of chunks) {
      if (kept < INSPECT_BYTES) {
        const slice = chunk.subarray(0, INSPECT_BYTES - kept);
        parts.push(Uint8Array.from(slice));
        kept += slice.byteLength;
      }
      yield chunk;
    }
  })();
  return { stream, head: () => Buffer.concat(parts) };
};
