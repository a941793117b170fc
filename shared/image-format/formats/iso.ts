/**
 * ISO 9660 / UDF: a volume descriptor at 32 KiB (after the 16-sector system area) whose standard
 * identifier (bytes 1-5) is "CD001", "NSR02" or "NSR03", as oslo.utils' ISOInspector. No safety
 * check. qemu reads an ISO as raw, so its virtual size is the data size (Glance instead reports the
 * primary volume descriptor's block count times block size).
 */
import { ascii, at, hasBytes, matched, NO_MATCH, type Probe } from '#shared/image-format/probe';

const DESCRIPTOR_AT = 32 * 1024;
const DESCRIPTOR_BYTES = 2048;
const IDENTIFIERS = ['CD001', 'NSR02', 'NSR03'].map(ascii);

export function* isoProbe(): Probe {
  const descriptor = yield at(DESCRIPTOR_AT, DESCRIPTOR_BYTES);
  if (!descriptor || descriptor.length < DESCRIPTOR_BYTES) return NO_MATCH;
  if (!IDENTIFIERS.some((id) => hasBytes(descriptor, 1, id))) return NO_MATCH;
  return matched({ dataSizeMinus: 0n }, []);
}
