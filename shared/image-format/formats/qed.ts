/**
 * QED, little-endian header: magic "QED\0" at 0, image size (u64) at 48. Nothing consumes it and
 * it can name a backing file, so, as oslo.utils' QEDInspector, it is recognised only to be refused.
 */
import { ascii, at, hasBytes, matched, NO_MATCH, type Probe, u64le } from '#shared/image-format/probe';

const MAGIC = ascii('QED\0');

export function* qedProbe(): Probe {
  const header = yield at(0, 512);
  if (!header || !hasBytes(header, 0, MAGIC)) return NO_MATCH;
  return matched(header.length >= 56 ? { header: u64le(header, 48) } : null, [
    { check: 'banned', reason: 'qed images are not accepted' },
  ]);
}
