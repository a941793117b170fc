/**
 * qcow2 (and qcow, its version 1), big-endian header (qemu docs/interop/qcow2.txt):
 *
 *   0  magic "QFI\xfb"          24  virtual size (u64)
 *   4  version (u32)            72  incompatible feature bits (u64, version 3)
 *   8  backing file offset (u64, 0 = none)      100  header length (u32, version 3)
 *
 * Checks, as oslo.utils' QcowInspector: no backing file, no external data file (incompatible bit 2),
 * no incompatible bit it does not know (bits 0-3 are known; like oslo.utils, bit 4 "extended L2"
 * counts as unknown), version 2 or 3 only.
 */
import {
  ascii,
  at,
  hasBytes,
  hex,
  matched,
  NO_MATCH,
  type Probe,
  type SafetyFailure,
  u32be,
  u64be,
} from '#shared/image-format/probe';

const MAGIC = ascii('QFI\xfb');
const DATA_FILE = 1n << 2n;
const KNOWN_INCOMPATIBLE = 0b1111n;
/** Bytes of header each version needs: v3 up to the header length field, v2 the 72-byte header. */
const HEADER_BYTES: Record<number, number> = { 2: 72, 3: 104 };
/** For other versions only the fields common to all: backing file offset and size. */
const COMMON_BYTES = 32;

export function* qcow2Probe(): Probe {
  const header = yield at(0, 512);
  if (!header || !hasBytes(header, 0, MAGIC)) return NO_MATCH;
  if (header.length < 8) return matched(null, [truncated(header.length, 8)]);
  const version = u32be(header, 4);
  const failures: SafetyFailure[] = [];
  if (version !== 2 && version !== 3) {
    failures.push({
      check: 'version',
      reason:
        version === 1
          ? 'it is a qcow (version 1) image; only qcow2 versions 2 and 3 are accepted'
          : `its qcow2 version is ${version}; only versions 2 and 3 are accepted`,
    });
  }
  const needed = HEADER_BYTES[version] ?? COMMON_BYTES;
  if (header.length < needed) return matched(null, [...failures, truncated(header.length, needed)]);
  if (u64be(header, 8) !== 0n) {
    failures.push({
      check: 'backing_file',
      reason: 'it names a backing file, which a compute host would open',
    });
  }
  if (version === 3) {
    const features = u64be(header, 72);
    if (features & DATA_FILE) {
      failures.push({
        check: 'data_file',
        reason: 'it keeps its data in an external data file, which a compute host would open',
      });
    }
    const unknown = features & ~KNOWN_INCOMPATIBLE;
    if (unknown) {
      failures.push({
        check: 'unknown_features',
        reason: `it sets incompatible feature bits that are not understood (${hex(unknown)})`,
      });
    }
    const headerLength = u32be(header, 100);
    if (headerLength < 104) {
      failures.push({
        check: 'header',
        reason: `its header length (${headerLength}) is below the 104 bytes of version 3`,
      });
    }
  }
  return matched({ header: u64be(header, 24) }, failures);
}

const truncated = (have: number, need: number): SafetyFailure => ({
  check: 'header',
  reason: `its qcow2 header is truncated (${have} of ${need} bytes)`,
});
