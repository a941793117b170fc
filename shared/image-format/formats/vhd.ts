/**
 * VHD ("vpc" in qemu): a 512-byte big-endian footer, "conectix" at 0. Dynamic disks keep a copy
 * of it at the start of the file, fixed disks only at the end (qemu's probe sees only the start, but
 * opens a fixed disk declared `vhd`; oslo.utils sees only the start, so Glance refuses fixed VHDs
 * declared `vhd` as raw data: here the end is looked at too).
 *
 *   28  creator application (4 bytes)    56  cylinders (u16), heads (u8), sectors per track (u8)
 *   48  current size (u64)               60  disk type (u32): 2 fixed, 3 dynamic, 4 differencing
 *
 * Virtual size as qemu's vpc driver computes it: the CHS geometry, except for creators known to
 * use the current-size field ("win ", "qem2", "d2v ", "CTXS", "tap\0") or a maximal geometry.
 * Check: a differencing disk (it names a parent file) or an unknown disk type is refused.
 */
import {
  ascii,
  at,
  hasBytes,
  matched,
  NO_MATCH,
  type Probe,
  tail,
  u8,
  u16be,
  u32be,
  u64be,
} from '#shared/image-format/probe';

const COOKIE = ascii('conectix');
const FOOTER_BYTES = 512;
const CURRENT_SIZE_CREATORS = ['win ', 'qem2', 'd2v ', 'CTXS', 'tap\0'].map(ascii);
const MAX_GEOMETRY = 65535n * 16n * 255n;
const FIXED = 2;
const DYNAMIC = 3;
const DIFFERENCING = 4;

export function* vhdProbe(): Probe {
  const head = yield at(0, FOOTER_BYTES);
  let footer = head && hasBytes(head, 0, COOKIE) ? head : undefined;
  if (!footer) {
    const end = yield tail(FOOTER_BYTES);
    if (!end || !hasBytes(end, 0, COOKIE)) return NO_MATCH;
    footer = end;
  }
  if (footer.length < FOOTER_BYTES) {
    return matched(null, [
      { check: 'header', reason: `its VHD footer is truncated (${footer.length} of ${FOOTER_BYTES} bytes)` },
    ]);
  }
  const type = u32be(footer, 60);
  const failures =
    type === DIFFERENCING
      ? [{ check: 'parent', reason: 'it is a differencing VHD, which names a parent file' }]
      : type === FIXED || type === DYNAMIC
        ? []
        : [{ check: 'disk_type', reason: `its VHD disk type (${type}) is unknown` }];
  const geometry = BigInt(u16be(footer, 56) * u8(footer, 58) * u8(footer, 59));
  const usesCurrentSize = CURRENT_SIZE_CREATORS.some((creator) => hasBytes(footer, 28, creator));
  const sectors = usesCurrentSize || geometry === MAX_GEOMETRY ? u64be(footer, 48) / 512n : geometry;
  return matched({ header: sectors * 512n }, failures);
}
