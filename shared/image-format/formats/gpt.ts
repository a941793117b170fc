/**
 * GPT, and the legacy MBR it extends: a 512-byte boot sector ending in 0x55 0xaa, that is not the
 * boot sector of a FAT file system (2 FATs, fixed-disk media byte), as oslo.utils' GPTInspector.
 * Its one check, `mbr`, validates the four partition entries (at 446, 16 bytes each): boot flag
 * 0x00 or 0x80; a protective (type 0xee) entry must start at CHS 0/2/0 and LBA 1 and be the only
 * entry; at least one entry must be used. qemu reads it as raw: the virtual size is the data size.
 */
import { at, matched, NO_MATCH, type Probe, u16le, u32le } from '#shared/image-format/probe';

const SECTOR = 512;
const BOOT_SIGNATURE = 0xaa55;
const ENTRIES_AT = 446;
const PROTECTIVE = 0xee;
const FAT_MEDIA_FIXED_DISK = 0xf8;

export function* gptProbe(): Probe {
  const mbr = yield at(0, SECTOR);
  if (!mbr || mbr.length < SECTOR || u16le(mbr, 510) !== BOOT_SIGNATURE) return NO_MATCH;
  if (mbr[0x10] === 2 && mbr[0x15] === FAT_MEDIA_FIXED_DISK) return NO_MATCH;
  const problem = mbrProblem(mbr);
  return matched({ dataSizeMinus: 0n }, problem ? [{ check: 'mbr', reason: problem }] : []);
}

/** The first thing wrong with the partition entries, as oslo.utils checks them, or undefined. */
const mbrProblem = (mbr: Uint8Array): string | undefined => {
  const used: number[] = [];
  let protective = false;
  for (let i = 0; i < 4; i++) {
    const entry = mbr.subarray(ENTRIES_AT + 16 * i, ENTRIES_AT + 16 * (i + 1));
    const [boot = 0, head = 0, sector = 0, cylinder = 0, type = 0] = entry;
    if (boot !== 0x00 && boot !== 0x80) return `its MBR partition entry ${i} has an invalid boot flag`;
    if (type !== 0) used.push(i);
    if (type === PROTECTIVE) {
      protective = true;
      if (head !== 0 || sector !== 2 || cylinder !== 0) return 'its protective MBR has an invalid start CHS';
      if (u32le(entry, 8) !== 1) return 'its protective MBR does not start at LBA 1';
    }
  }
  if (protective && (used.length !== 1 || used[0] !== 0)) {
    return 'its protective MBR defines partitions besides the GPT one';
  }
  if (used.length === 0) return 'its MBR defines no partitions';
  return undefined;
};
