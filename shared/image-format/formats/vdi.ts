/**
 * VirtualBox VDI, little-endian 512-byte header: signature 0xbeda107f (u32) at 0x40, disk size
 * (u64) at 0x170. No safety check (as oslo.utils' VDIInspector): a VDI cannot name other files
 * that qemu would open.
 */
import { at, matched, NO_MATCH, type Probe, u32le, u64le } from '#shared/image-format/probe';

const SIGNATURE = 0xbeda107f;
const SIZE_AT = 0x170;

export function* vdiProbe(): Probe {
  const header = yield at(0, 512);
  if (!header || header.length < 0x44 || u32le(header, 0x40) !== SIGNATURE) return NO_MATCH;
  if (header.length < SIZE_AT + 8) {
    return matched(null, [
      { check: 'header', reason: `its VDI header is truncated (${header.length} of ${SIZE_AT + 8} bytes)` },
    ]);
  }
  return matched({ header: u64le(header, SIZE_AT) }, []);
}
