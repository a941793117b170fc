/**
 * VHDX, little-endian (MS-VHDX): file identifier "vhdxfile" at 0; region table at 192 KiB (16-byte
 * header "regi" with the entry count at 8, then 32-byte entries: GUID, file offset u64, length);
 * the metadata region it points to (32-byte header "metadata" with the entry count at 10, then
 * 32-byte entries: GUID, offset u32 from the region start, length u32); the Virtual Disk Size item
 * is a u64. Only the entries are kept (at most 2047 x 32 bytes, as qemu), never a whole region.
 * No safety check (as oslo.utils' VHDXInspector; qemu refuses VHDX files with a parent). A VHDX
 * whose structures are missing, out of order (behind what was read) or truncated is refused.
 */
import {
  ascii,
  at,
  hasBytes,
  matched,
  NO_MATCH,
  type Probe,
  u16le,
  u32le,
  u64le,
} from '#shared/image-format/probe';

const IDENTIFIER = ascii('vhdxfile');
const REGION_TABLE_AT = 192 * 1024;
const REGION_SIGNATURE = ascii('regi');
const METADATA_SIGNATURE = ascii('metadata');
const MAX_ENTRIES = 2047;
const ENTRY_BYTES = 32;
const METADATA_REGION = guidBytes('8B7CA206-4790-4B9A-B8FE-575F050F886E');
const VIRTUAL_DISK_SIZE = guidBytes('2FA54224-CD1B-4876-B211-5DBED83BF4B8');

export function* vhdxProbe(): Probe {
  const identifier = yield at(0, IDENTIFIER.length);
  if (!identifier || !hasBytes(identifier, 0, IDENTIFIER)) return NO_MATCH;
  const invalid = (problem: string) => matched(null, [{ check: 'header', reason: `its VHDX ${problem}` }]);

  const table = yield at(REGION_TABLE_AT, 16);
  if (!table || !hasBytes(table, 0, REGION_SIGNATURE) || table.length < 16) {
    return invalid('region table is missing');
  }
  const regions = u32le(table, 8);
  if (regions > MAX_ENTRIES) return invalid(`region table has ${regions} entries (at most ${MAX_ENTRIES})`);
  const regionEntries = yield at(REGION_TABLE_AT + 16, regions * ENTRY_BYTES);
  if (!regionEntries || regionEntries.length < regions * ENTRY_BYTES)
    return invalid('region table is truncated');
  const metadata = findEntry(regionEntries, METADATA_REGION);
  if (metadata === undefined) return invalid('region table has no metadata region');
  const metadataAt = u64le(regionEntries, metadata + 16);

  const header = yield at(metadataAt, 32);
  if (!header || header.length < 32 || !hasBytes(header, 0, METADATA_SIGNATURE)) {
    return invalid('metadata region is missing, truncated or placed before the region table');
  }
  const items = u16le(header, 10);
  if (items > MAX_ENTRIES) return invalid(`metadata table has ${items} entries (at most ${MAX_ENTRIES})`);
  const itemEntries = yield at(metadataAt + 32n, items * ENTRY_BYTES);
  if (!itemEntries || itemEntries.length < items * ENTRY_BYTES) return invalid('metadata table is truncated');
  const size = findEntry(itemEntries, VIRTUAL_DISK_SIZE);
  if (size === undefined) return invalid('metadata has no virtual disk size');
  if (u32le(itemEntries, size + 20) < 8) return invalid('virtual disk size item is too short');

  const value = yield at(metadataAt + BigInt(u32le(itemEntries, size + 16)), 8);
  if (!value || value.length < 8) {
    return invalid('virtual disk size is missing, truncated or placed before the metadata table');
  }
  return matched({ header: u64le(value, 0) }, []);
}

/** Byte offset of the 32-byte entry whose GUID is `guid`, or undefined. */
const findEntry = (entries: Uint8Array, guid: readonly number[]): number | undefined => {
  for (let offset = 0; offset + ENTRY_BYTES <= entries.length; offset += ENTRY_BYTES) {
    if (hasBytes(entries, offset, guid)) return offset;
  }
  return undefined;
};

/** A GUID as stored on disk: the first three groups little-endian, the last two as written. */
function guidBytes(guid: string): number[] {
  const [a = '', b = '', c = '', d = '', e = ''] = guid.split('-');
  const pairs = (hex: string) => (hex.match(/../g) ?? []).map((pair) => Number.parseInt(pair, 16));
  return [...pairs(a).reverse(), ...pairs(b).reverse(), ...pairs(c).reverse(), ...pairs(d), ...pairs(e)];
}
