/**
 * LUKS, big-endian header: magic "LUKS\xba\xbe" at 0, version (u16) at 6, payload offset in
 * 512-byte sectors (u32) at 104. Only version 1 is accepted (qemu reads no other), as oslo.utils'
 * LUKSInspector. The virtual size is the data after the payload offset, as `qemu-img info` reports.
 */
import { at, hasBytes, matched, NO_MATCH, type Probe, u16be, u32be } from '#shared/image-format/probe';

const MAGIC = [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe];
const HEADER_BYTES = 108;

export function* luksProbe(): Probe {
  const header = yield at(0, HEADER_BYTES);
  if (!header || !hasBytes(header, 0, MAGIC)) return NO_MATCH;
  if (header.length < HEADER_BYTES) {
    return matched(null, [
      { check: 'header', reason: `its LUKS header is truncated (${header.length} of ${HEADER_BYTES} bytes)` },
    ]);
  }
  const version = u16be(header, 6);
  const failures =
    version === 1
      ? []
      : [{ check: 'version', reason: `its LUKS version is ${version}; only version 1 is accepted` }];
  return matched({ dataSizeMinus: BigInt(u32be(header, 104)) * 512n }, failures);
}
