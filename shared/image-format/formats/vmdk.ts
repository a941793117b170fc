/**
 * VMDK. Two shapes reach us:
 *
 * - A sparse extent ("KDMV" at 0, little-endian header) with its descriptor embedded:
 *     4 version (u32, 1-3)     28 descriptor offset (u64, sectors; must be 1, as qemu and oslo.utils)
 *    12 capacity (u64, sectors)   36 descriptor size (u64, sectors; read up to 1 MiB - 1, as qemu)
 *    56 grain directory offset (u64; all ones: a footer at the end holds the real header)
 * - A descriptor file alone (text; its extents are other files). Always refused: qemu would open
 *   the files it names. Recognised by qemu's own probe (first significant line `version=N` in the
 *   first 2 KiB) or by oslo.utils' (text that names a `createType`).
 *
 * Checks on a sparse extent:
 * - `descriptor`: parsed as oslo.utils does (ASCII; only comments, `ddb` lines, `key=value` header
 *   fields and extent lines starting with RW/RDONLY/NOACCESS; at least one extent); extents may not
 *   name a path (`/` or `\`). The `createType` is reported for the allow-list (decision.ts).
 * - `capacity`: a header declaring no capacity makes qemu open the extents the descriptor names.
 * - `footer` (streamOptimized with the grain directory at the end): the last three sectors must be
 *   a footer marker, a footer header that matches the header (version, capacity, descriptor) and
 *   does not point to yet another footer, and an end-of-stream marker, as oslo.utils checks them.
 */
import {
  ascii,
  at,
  excerpt,
  hasBytes,
  matched,
  NO_MATCH,
  type Probe,
  type SafetyFailure,
  tail,
  u32le,
  u64le,
} from '#shared/image-format/probe';

const MAGIC = ascii('KDMV');
const SECTOR = 512;
const HEADER_BYTES = 64;
const DESCRIPTOR_LIMIT = 1024 * 1024 - 1;
/** qemu probes a descriptor file on this many leading bytes. */
const PROBE_BYTES = 2048;
const GD_AT_END = 0xffff_ffff_ffff_ffffn;
const FOOTER_BYTES = 3 * SECTOR;
const MARKER_FOOTER = 3;
const EXTENT_ACCESS = ['rw', 'rdonly', 'noaccess'];

export function* vmdkProbe(): Probe {
  const head = yield at(0, SECTOR);
  if (!head) return NO_MATCH;
  if (hasBytes(head, 0, MAGIC)) return yield* sparseExtent(head);

  // A descriptor file? Only worth a further read when the data starts like text.
  if (head.length === 0 || !isPrintable(head[0] ?? 0)) return NO_MATCH;
  const more = head.length === SECTOR ? yield at(SECTOR, PROBE_BYTES - SECTOR) : undefined;
  const start = more ? concat(head, more) : head;
  const text = latin1(untilNul(start));
  const createType = createTypeOf(text);
  const describes = qemuProbesDescriptor(start) || (isText(untilNul(head)) && createType !== undefined);
  if (!describes) return NO_MATCH;
  return matched(
    null,
    [
      {
        check: 'descriptor',
        reason: 'it is a VMDK descriptor file, whose extents are separate files',
      },
    ],
    createType,
  );
}

function* sparseExtent(header: Uint8Array): Probe {
  if (header.length < HEADER_BYTES) {
    return matched(null, [
      { check: 'header', reason: `its VMDK header is truncated (${header.length} of ${HEADER_BYTES} bytes)` },
    ]);
  }
  const version = u32le(header, 4);
  if (version < 1 || version > 3) {
    return matched(null, [{ check: 'header', reason: `its VMDK version is ${version} (1 to 3 are known)` }]);
  }
  const capacity = u64le(header, 12);
  const virtualSize = { header: capacity * BigInt(SECTOR) };
  const descriptorAt = u64le(header, 28);
  const descriptorSectors = u64le(header, 36);
  if (descriptorAt !== 1n) {
    return matched(virtualSize, [{ check: 'descriptor', reason: 'its descriptor is not at sector 1' }]);
  }
  if (descriptorSectors === 0n) {
    return matched(virtualSize, [{ check: 'descriptor', reason: 'it has no descriptor' }]);
  }
  const wanted = descriptorSectors * BigInt(SECTOR);
  const length = wanted > BigInt(DESCRIPTOR_LIMIT) ? DESCRIPTOR_LIMIT : Number(wanted);
  const descriptor = yield at(SECTOR, length);
  if (!descriptor || descriptor.length < length) {
    return matched(virtualSize, [{ check: 'descriptor', reason: 'its descriptor is truncated' }]);
  }
  const parsed = parseDescriptor(descriptor);
  const failures: SafetyFailure[] = [...parsed.failures];
  if (capacity === 0n) {
    failures.push({
      check: 'capacity',
      reason: 'its header declares no capacity, so qemu would open the extents its descriptor names',
    });
  }
  if (u64le(header, 56) === GD_AT_END) {
    const footer = yield tail(FOOTER_BYTES);
    const problem = footerProblem(header, footer);
    if (problem) failures.push({ check: 'footer', reason: problem });
  }
  return matched(virtualSize, failures, parsed.createType);
}

/** The descriptor's lines, judged as oslo.utils' VMDKInspector.check_descriptor does. */
const parseDescriptor = (bytes: Uint8Array): { createType?: string; failures: SafetyFailure[] } => {
  const content = untilNul(bytes);
  if (content.some((byte) => byte > 0x7f)) {
    return { failures: [{ check: 'descriptor', reason: 'its descriptor is not ASCII text' }] };
  }
  const text = latin1(content);
  const createType = createTypeOf(text);
  const failures: SafetyFailure[] = [];
  if (createType === undefined)
    failures.push({ check: 'descriptor', reason: 'its descriptor names no createType' });
  let extents = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim().toLowerCase();
    if (line === '' || line.startsWith('#') || line.startsWith('ddb')) continue;
    const equals = line.indexOf('=');
    if (equals >= 0 && !line.slice(0, equals).includes(' ')) continue;
    if (EXTENT_ACCESS.includes(line.split(' ')[0] ?? '')) {
      extents++;
      if (line.includes('/') || line.includes('\\')) {
        failures.push({
          check: 'extents',
          reason: `its descriptor names an extent file by path (${excerpt(raw.trim())})`,
        });
        return { createType, failures };
      }
      continue;
    }
    failures.push({
      check: 'descriptor',
      reason: `its descriptor has an unsupported line ${excerpt(raw.trim())}`,
    });
    return { createType, failures };
  }
  if (extents === 0) failures.push({ check: 'extents', reason: 'its descriptor names no extents' });
  return { createType, failures };
};

/** The footer checks of a streamOptimized VMDK whose header defers to its footer. */
const footerProblem = (header: Uint8Array, footer: Uint8Array | undefined): string | undefined => {
  if (!footer || footer.length < FOOTER_BYTES) return 'its header announces a footer, but the data has none';
  const marker = footer.subarray(0, SECTOR);
  const copy = footer.subarray(SECTOR, 2 * SECTOR);
  const end = footer.subarray(2 * SECTOR);
  if (!hasBytes(copy, 0, MAGIC)) return 'its footer does not hold a VMDK header';
  const same = (offset: number, bytes: number) =>
    hasBytes(copy, offset, Array.from(header.subarray(offset, offset + bytes)));
  if (!same(4, 4)) return 'its footer and header versions differ';
  if (!same(12, 8)) return 'its footer and header capacities differ';
  if (!same(28, 16)) return 'its footer names a different descriptor than its header';
  if (u64le(copy, 56) === GD_AT_END) return 'its footer announces yet another footer';
  if (u32le(marker, 8) !== 0 || u32le(marker, 12) !== MARKER_FOOTER || !zeros(marker, 16)) {
    return 'its footer marker is invalid';
  }
  if (u64le(end, 0) !== 0n || u32le(end, 8) !== 0 || u32le(end, 12) !== 0 || !zeros(end, 16)) {
    return 'its end-of-stream marker is invalid';
  }
  return undefined;
};

/** qemu's vmdk_probe on a descriptor file: skip comments and blank lines, then `version=1|2|3`. */
const qemuProbesDescriptor = (bytes: Uint8Array): boolean => {
  const newline = 0x0a;
  let p = 0;
  while (p < bytes.length) {
    if (bytes[p] === 0x23) {
      while (p < bytes.length && bytes[p] !== newline) p++;
      p++;
      continue;
    }
    if (bytes[p] === 0x20) {
      while (p < bytes.length && bytes[p] === 0x20) p++;
      if (p < bytes.length && bytes[p] === 0x0d) p++;
      if (p === bytes.length || bytes[p] !== newline) return false;
      p++;
      continue;
    }
    for (const version of ['1', '2', '3']) {
      for (const ending of ['\n', '\r\n']) {
        if (hasBytes(bytes, p, ascii(`version=${version}${ending}`))) return true;
      }
    }
    return false;
  }
  return false;
};

/** `createType="..."` (case-insensitive key), when the value is under 64 characters, as oslo.utils. */
const createTypeOf = (text: string): string | undefined => {
  const key = 'createtype="';
  const start = text.toLowerCase().indexOf(key);
  if (start < 0) return undefined;
  const from = start + key.length;
  const end = text.indexOf('"', from);
  if (end < 0 || end - from >= 64) return undefined;
  return text.slice(from, end);
};

const isPrintable = (byte: number) =>
  (byte >= 0x20 && byte < 0x7f) || byte === 0x09 || byte === 0x0a || byte === 0x0d;
const isText = (bytes: Uint8Array) => bytes.length > 0 && bytes.every(isPrintable);
const zeros = (bytes: Uint8Array, from: number) => bytes.subarray(from).every((byte) => byte === 0);
const untilNul = (bytes: Uint8Array) => {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
};
const latin1 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
const concat = (a: Uint8Array, b: Uint8Array) => {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
};
