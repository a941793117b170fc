/**
 * The contract between the streaming inspector (inspector.ts) and the per-format probes
 * (formats/*.ts). A probe is a generator: it yields the region of the data it wants next and is
 * resumed with those bytes, so it reads like straight-line parsing code while the inspector feeds
 * it from whatever chunks pass by. See docs/image-formats.md#how-the-inspector-reads.
 *
 * Rules a probe can rely on:
 * - Reads go forward only: a region must start at or after the end of the probe's previous one,
 *   otherwise it is answered `undefined` (the data has passed and was not kept). This is what makes
 *   the result independent of how the data is chunked.
 * - A region is answered with exactly the bytes asked for, or with fewer when the data ends inside
 *   it, or `undefined` when it cannot be served at all (behind the probe, offset beyond 2^53, longer
 *   than `REGION_LIMIT`, over the memory budget).
 * - `tail(n)` answers the last `n` bytes of the data once it has ended, if they all lie at or after
 *   the probe's previous read; else `undefined`.
 */

/** Largest region one read may ask for (the VMDK descriptor: at most 1 MiB - 1, as qemu). */
export const REGION_LIMIT = 1024 * 1024;
/** Largest tail one read may ask for (the VMDK streamOptimized footer: 3 sectors). */
export const TAIL_LIMIT = 2048;

export type Want =
  | { readonly kind: 'at'; readonly offset: number; readonly length: number }
  | { readonly kind: 'tail'; readonly length: number };

export type Got = Uint8Array | undefined;

/** One failed safety check: `check` is a stable name (as oslo.utils names them), `reason` a sentence for users. */
export interface SafetyFailure {
  readonly check: string;
  readonly reason: string;
}

/**
 * Where `virtual_size` comes from: a header field (bytes), or the data size less a header
 * (LUKS payload offset; 0 for formats qemu reads as raw: iso, gpt).
 */
export type VirtualSizeSource = { readonly header: bigint } | { readonly dataSizeMinus: bigint } | null;

export type ProbeVerdict =
  | { readonly match: false }
  | {
      readonly match: true;
      readonly virtualSize: VirtualSizeSource;
      readonly failures: readonly SafetyFailure[];
      /** VMDK only: the descriptor's `createType`, for the configurable allow-list. */
      readonly createType?: string;
    };

export type Probe = Generator<Want, ProbeVerdict, Got>;

/** The region `[offset, offset + length)`; offsets from headers may be bigint (u64 fields). */
export const at = (offset: number | bigint, length: number): Want => ({
  kind: 'at',
  offset: typeof offset === 'bigint' ? toSafeNumber(offset) : offset,
  length,
});
export const tail = (length: number): Want => ({ kind: 'tail', length });

export const NO_MATCH: ProbeVerdict = { match: false };

export const matched = (
  virtualSize: VirtualSizeSource,
  failures: readonly SafetyFailure[],
  createType?: string,
): ProbeVerdict =>
  createType === undefined
    ? { match: true, virtualSize, failures }
    : { match: true, virtualSize, failures, createType };

/** A u64 from a header as a number, or +Infinity when it does not fit exactly (never served). */
export const toSafeNumber = (value: bigint): number =>
  value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : Number.POSITIVE_INFINITY;

// ------------------------------------------------------------------------------------------------
// Byte readers. Callers check the length first; a read outside the bytes is a probe bug, which the
// inspector turns into a refusal rather than a crash.

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export const u8 = (bytes: Uint8Array, offset: number): number => view(bytes).getUint8(offset);
export const u16be = (bytes: Uint8Array, offset: number): number => view(bytes).getUint16(offset);
export const u16le = (bytes: Uint8Array, offset: number): number => view(bytes).getUint16(offset, true);
export const u32be = (bytes: Uint8Array, offset: number): number => view(bytes).getUint32(offset);
export const u32le = (bytes: Uint8Array, offset: number): number => view(bytes).getUint32(offset, true);
export const u64be = (bytes: Uint8Array, offset: number): bigint => view(bytes).getBigUint64(offset);
export const u64le = (bytes: Uint8Array, offset: number): bigint => view(bytes).getBigUint64(offset, true);

/** Whether `bytes` holds `signature` at `offset`. */
export const hasBytes = (bytes: Uint8Array, offset: number, signature: readonly number[]): boolean => {
  if (offset + signature.length > bytes.length) return false;
  for (let i = 0; i < signature.length; i++) if (bytes[offset + i] !== signature[i]) return false;
  return true;
};

export const ascii = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));

/** `0x...` for messages about bit fields. */
export const hex = (value: bigint | number): string => `0x${value.toString(16)}`;

/** A quoted excerpt of untrusted text for a message: printable ASCII only, at most 40 characters. */
export const excerpt = (text: string): string => {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 40 ? `${clean.slice(0, 40)}...` : clean);
};
