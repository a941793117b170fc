/**
 * The disk-image corpus of the format tests, built with the real `qemu-img` (Debian qemu-utils)
 * into the system temp directory, once per qemu version and version of this file (concurrent test
 * files share it: it is built in a scratch directory and renamed into place).
 *
 * Every image qemu-img can make is made by qemu-img; the rest is crafted here from qemu-img output
 * (streamOptimized footers, patched headers and descriptors) or from scratch where qemu-img has no
 * writer (ISO 9660, GPT and MBR partition tables). For each image the corpus records what
 * `qemu-img info --output=json` reports, so tests compare against qemu, not against themselves.
 *
 * Without qemu-img the corpus cannot be built and every test using it fails, saying so.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { InspectedFormat } from '#shared/image-format/inspector';

const run = promisify(execFile);

export const QEMU_IMG = process.env.QEMU_IMG ?? '/usr/bin/qemu-img';

export interface CorpusImage {
  /** e.g. `qcow2-backing-file`. */
  readonly name: string;
  readonly file: string;
  /** The format the data is (what the inspector must detect; `raw` for none). */
  readonly format: InspectedFormat;
  /** False for the images the rules refuse whatever they are declared as. */
  readonly safe: boolean;
  /** How the image was made, for test names and the docs. */
  readonly made: string;
  /** `qemu-img info --output=json` of the image (format and virtual size), when qemu opens it alone. */
  readonly qemu: { readonly format: string; readonly virtualSize: number } | null;
  /** Unsafe images: the safety checks (or `ambiguous`) that refuse them. */
  readonly refusedBy?: readonly string[];
}

const MiB = 1024 * 1024;
const SECTOR = 512;
const SOURCE_BYTES = 2 * MiB;

interface Recipe {
  readonly name: string;
  readonly format: InspectedFormat;
  readonly made: string;
  readonly refusedBy?: readonly string[];
  /** `-f` for `qemu-img info`, when qemu should not probe (fixed VHD); null: qemu cannot read it alone. */
  readonly qemuFormat?: string | null;
  readonly build: (dir: string, file: string) => Promise<void>;
}

const qemuImg = async (...args: string[]) => {
  await run(QEMU_IMG, args, { maxBuffer: 16 * MiB });
};

/** `path`'s bytes after `patch` (in place). */
const patchFile = async (path: string, patch: (bytes: Buffer) => Buffer | undefined) => {
  const bytes = await readFile(path);
  await writeFile(path, patch(bytes) ?? bytes);
};

/** A deterministic pseudo-random source: 256 KiB at 0 and at 1 MiB, zeros elsewhere. */
const sourceBytes = (): Buffer => {
  const bytes = Buffer.alloc(SOURCE_BYTES);
  let state = 0x9e3779b9;
  for (const start of [0, MiB]) {
    for (let i = start; i < start + 256 * 1024; i += 4) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      bytes.writeUInt32LE(state >>> 0, i);
    }
  }
  return bytes;
};

const convert =
  (format: string, ...options: string[]) =>
  async (dir: string, file: string) =>
    qemuImg('convert', '-O', format, ...options, join(dir, 'source.raw'), file);

/** Rewrites the text of a sparse VMDK's embedded descriptor (sector 1, zero-padded). */
const rewriteDescriptor = (bytes: Buffer, edit: (text: string) => string): Buffer => {
  const sectors = Number(bytes.readBigUInt64LE(36));
  const region = bytes.subarray(SECTOR, SECTOR + sectors * SECTOR);
  const end = region.indexOf(0);
  const text = edit(region.subarray(0, end < 0 ? region.length : end).toString('latin1'));
  if (text.length >= region.length) throw new Error('rewritten VMDK descriptor does not fit');
  region.fill(0);
  region.write(text, 'latin1');
  return bytes;
};

const GD_AT_END = 0xffff_ffff_ffff_ffffn;

/**
 * A streamOptimized VMDK as VMware writes it: the header's grain directory offset says "at the
 * end", and the file ends with a footer marker, a copy of the header holding the real offset, and
 * an end-of-stream marker. Built from qemu-img's streamOptimized output (qemu 7.2 writes no footer).
 */
const withFooter = (bytes: Buffer, tamper: (footer: Buffer) => void = () => {}): Buffer => {
  const header = Buffer.from(bytes.subarray(0, SECTOR));
  const marker = Buffer.alloc(SECTOR);
  marker.writeBigUInt64LE(1n, 0);
  marker.writeUInt32LE(3, 12);
  const footer = Buffer.from(header);
  tamper(footer);
  const eos = Buffer.alloc(SECTOR);
  const out = Buffer.concat([bytes, marker, footer, eos]);
  out.writeBigUInt64LE(GD_AT_END, 56);
  return out;
};

/** A boot sector with the given 16-byte partition entries and the 0x55 0xaa signature. */
const bootSector = (entries: readonly Buffer[]): Buffer => {
  const sector = Buffer.alloc(SECTOR);
  entries.forEach((entry, i) => {
    entry.copy(sector, 446 + 16 * i);
  });
  sector.writeUInt16LE(0xaa55, 510);
  return sector;
};

const partitionEntry = (fields: {
  boot: number;
  chs: [number, number, number];
  type: number;
  lba: number;
  sectors: number;
}) => {
  const entry = Buffer.alloc(16);
  entry[0] = fields.boot;
  entry.set(fields.chs, 1);
  entry[4] = fields.type;
  entry.set([0xff, 0xff, 0xff], 5);
  entry.writeUInt32LE(fields.lba, 8);
  entry.writeUInt32LE(fields.sectors, 12);
  return entry;
};

const protectiveEntry = (sectors: number) =>
  partitionEntry({ boot: 0, chs: [0, 2, 0], type: 0xee, lba: 1, sectors: sectors - 1 });

/** A GPT disk: protective MBR, the "EFI PART" header at LBA 1, zeros. */
const gptDisk = (bytes: number, extra: readonly Buffer[] = []): Buffer => {
  const disk = Buffer.alloc(bytes);
  bootSector([protectiveEntry(bytes / SECTOR), ...extra]).copy(disk, 0);
  disk.write('EFI PART', SECTOR, 'latin1');
  disk.writeUInt32LE(0x0001_0000, SECTOR + 8);
  disk.writeUInt32LE(92, SECTOR + 12);
  return disk;
};

/** An ISO 9660 image: system area, a primary volume descriptor at 32 KiB, a set terminator. */
const isoImage = (blocks: number, systemArea?: Buffer): Buffer => {
  const block = 2048;
  const iso = Buffer.alloc(blocks * block);
  systemArea?.copy(iso, 0);
  const pvd = 16 * block;
  iso[pvd] = 1;
  iso.write('CD001', pvd + 1, 'latin1');
  iso[pvd + 6] = 1;
  iso.write('GLANCE_TEST'.padEnd(32), pvd + 40, 'latin1');
  iso.writeUInt32LE(blocks, pvd + 80);
  iso.writeUInt32BE(blocks, pvd + 84);
  iso.writeUInt16LE(block, pvd + 128);
  iso.writeUInt16BE(block, pvd + 130);
  const terminator = 17 * block;
  iso[terminator] = 0xff;
  iso.write('CD001', terminator + 1, 'latin1');
  iso[terminator + 6] = 1;
  return iso;
};

const RECIPES: readonly Recipe[] = [
  // Safe images, each of a format the rules accept when it is declared.
  {
    name: 'raw',
    format: 'raw',
    made: 'pseudo-random data with zero runs',
    build: async (dir, file) => writeFile(file, await readFile(join(dir, 'source.raw'))),
  },
  { name: 'qcow2', format: 'qcow2', made: 'qemu-img convert -O qcow2 (version 3)', build: convert('qcow2') },
  {
    name: 'qcow2-v2',
    format: 'qcow2',
    made: 'qemu-img convert -O qcow2 -o compat=0.10',
    build: convert('qcow2', '-o', 'compat=0.10'),
  },
  {
    name: 'qcow2-zstd',
    format: 'qcow2',
    made: 'qemu-img convert -c -O qcow2 -o compression_type=zstd (incompatible bit 3)',
    build: convert('qcow2', '-c', '-o', 'compression_type=zstd'),
  },
  { name: 'vhd', format: 'vhd', made: 'qemu-img convert -O vpc (dynamic)', build: convert('vpc') },
  {
    name: 'vhd-fixed',
    format: 'vhd',
    made: 'qemu-img convert -O vpc -o subformat=fixed (footer at the end only)',
    qemuFormat: 'vpc',
    build: convert('vpc', '-o', 'subformat=fixed'),
  },
  { name: 'vhdx', format: 'vhdx', made: 'qemu-img convert -O vhdx', build: convert('vhdx') },
  {
    name: 'vmdk',
    format: 'vmdk',
    made: 'qemu-img convert -O vmdk (monolithicSparse)',
    build: convert('vmdk'),
  },
  {
    name: 'vmdk-stream',
    format: 'vmdk',
    made: 'qemu-img convert -O vmdk -o subformat=streamOptimized',
    build: convert('vmdk', '-o', 'subformat=streamOptimized'),
  },
  {
    name: 'vmdk-stream-footer',
    format: 'vmdk',
    made: 'qemu-img streamOptimized, rewritten with its header in a footer (as VMware writes it)',
    build: async (dir, file) => {
      await convert('vmdk', '-o', 'subformat=streamOptimized')(dir, file);
      await patchFile(file, (bytes) => withFooter(bytes));
    },
  },
  { name: 'vdi', format: 'vdi', made: 'qemu-img convert -O vdi', build: convert('vdi') },
  {
    name: 'luks',
    format: 'luks',
    made: 'qemu-img create -f luks (LUKS version 1)',
    // qemu calibrates its key derivation for every LUKS image it makes (seconds): made once.
    build: (_, file) =>
      qemuImg(
        'create',
        '-f',
        'luks',
        '--object',
        'secret,id=sec0,data=corpus',
        '-o',
        'key-secret=sec0,iter-time=10',
        file,
        '2M',
      ),
  },
  {
    name: 'iso',
    format: 'iso',
    made: 'crafted ISO 9660 (primary volume descriptor at 32 KiB)',
    build: (_, file) => writeFile(file, isoImage(64)),
  },
  {
    name: 'iso-hybrid',
    format: 'iso',
    made: 'crafted ISO 9660 with a protective MBR in its system area (ISO + GPT: an ISO)',
    build: (_, file) => writeFile(file, isoImage(64, bootSector([protectiveEntry(64 * 4)]))),
  },
  {
    name: 'gpt',
    format: 'gpt',
    made: 'crafted GPT disk (protective MBR, EFI PART header)',
    build: (_, file) => writeFile(file, gptDisk(MiB)),
  },
  {
    name: 'mbr',
    format: 'gpt',
    made: 'crafted MBR disk with one Linux partition (Glance calls MBR disks gpt)',
    build: async (_, file) => {
      const disk = Buffer.alloc(MiB);
      bootSector([
        partitionEntry({ boot: 0x80, chs: [0x20, 0x21, 0], type: 0x83, lba: 2048, sectors: 0 }),
      ]).copy(disk);
      await writeFile(file, disk);
    },
  },

  // Unsafe images: refused whatever they are declared as.
  {
    name: 'qcow2-backing-file',
    format: 'qcow2',
    made: 'qemu-img create -f qcow2 -b /etc/passwd -F raw',
    refusedBy: ['backing_file'],
    build: (_, file) => qemuImg('create', '-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw', file, '2M'),
  },
  {
    name: 'qcow2-data-file',
    format: 'qcow2',
    made: 'qemu-img create -f qcow2 -o data_file=...',
    refusedBy: ['data_file'],
    qemuFormat: null,
    build: (dir, file) =>
      qemuImg('create', '-f', 'qcow2', '-o', `data_file=${join(dir, 'data-file.raw')}`, file, '2M'),
  },
  {
    name: 'qcow2-unknown-feature',
    format: 'qcow2',
    made: 'qemu-img qcow2 with incompatible feature bit 5 set in its header',
    refusedBy: ['unknown_features'],
    qemuFormat: null,
    build: async (dir, file) => {
      await convert('qcow2')(dir, file);
      await patchFile(file, (bytes) => {
        bytes[79] = (bytes[79] ?? 0) | 0x20;
        return bytes;
      });
    },
  },
  {
    name: 'qcow2-extended-l2',
    format: 'qcow2',
    made: 'qemu-img create -f qcow2 -o extended_l2=on (bit 4, unknown to oslo.utils too)',
    refusedBy: ['unknown_features'],
    build: (_, file) => qemuImg('create', '-f', 'qcow2', '-o', 'extended_l2=on', file, '2M'),
  },
  {
    name: 'qcow-v1',
    format: 'qcow2',
    made: 'qemu-img create -f qcow (version 1)',
    refusedBy: ['version'],
    build: (_, file) => qemuImg('create', '-f', 'qcow', file, '2M'),
  },
  {
    name: 'qed',
    format: 'qed',
    made: 'qemu-img convert -O qed',
    refusedBy: ['banned'],
    build: convert('qed'),
  },
  {
    name: 'vmdk-flat-descriptor',
    format: 'vmdk',
    made: 'qemu-img create -f vmdk -o subformat=monolithicFlat (the descriptor file)',
    refusedBy: ['descriptor'],
    qemuFormat: null,
    build: (_, file) => qemuImg('create', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', file, '2M'),
  },
  {
    name: 'vmdk-split-descriptor',
    format: 'vmdk',
    made: 'qemu-img create -f vmdk -o subformat=twoGbMaxExtentSparse (the descriptor file)',
    refusedBy: ['descriptor'],
    qemuFormat: null,
    build: (_, file) => qemuImg('create', '-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', file, '2M'),
  },
  {
    name: 'vmdk-extent-path',
    format: 'vmdk',
    made: 'qemu-img monolithicSparse whose descriptor extent names /etc/passwd',
    refusedBy: ['extents'],
    qemuFormat: null,
    build: async (dir, file) => {
      await convert('vmdk')(dir, file);
      await patchFile(file, (bytes) =>
        rewriteDescriptor(bytes, (text) => text.replace(/^(RW \d+ SPARSE )"[^"]*"/m, '$1"/etc/passwd"')),
      );
    },
  },
  {
    name: 'vmdk-zero-capacity',
    format: 'vmdk',
    made: 'qemu-img monolithicSparse with capacity 0 and a FLAT extent naming a sibling file',
    refusedBy: ['capacity'],
    qemuFormat: null,
    build: async (dir, file) => {
      await convert('vmdk')(dir, file);
      await patchFile(file, (bytes) => {
        bytes.writeBigUInt64LE(0n, 12);
        return rewriteDescriptor(bytes, (text) => text.replace(/^RW .*$/m, 'RW 4096 FLAT "passwd" 0'));
      });
    },
  },
  {
    name: 'vmdk-create-type',
    format: 'vmdk',
    made: 'qemu-img monolithicSparse whose descriptor says createType="vmfsSparse"',
    refusedBy: ['create_type'],
    qemuFormat: null,
    build: async (dir, file) => {
      await convert('vmdk')(dir, file);
      await patchFile(file, (bytes) =>
        rewriteDescriptor(bytes, (text) => text.replace('monolithicSparse', 'vmfsSparse')),
      );
    },
  },
  {
    name: 'vmdk-footer-mismatch',
    format: 'vmdk',
    made: 'streamOptimized with footer whose descriptor size differs from the header',
    refusedBy: ['footer'],
    qemuFormat: null,
    build: async (dir, file) => {
      await convert('vmdk', '-o', 'subformat=streamOptimized')(dir, file);
      await patchFile(file, (bytes) =>
        withFooter(bytes, (footer) => footer.writeBigUInt64LE(footer.readBigUInt64LE(36) + 1n, 36)),
      );
    },
  },
  {
    name: 'vmdk-footer-missing',
    format: 'vmdk',
    made: 'streamOptimized whose header announces a footer that is not there',
    refusedBy: ['footer'],
    qemuFormat: null,
    build: async (dir, file) => {
      await convert('vmdk', '-o', 'subformat=streamOptimized')(dir, file);
      await patchFile(file, (bytes) => {
        bytes.writeBigUInt64LE(GD_AT_END, 56);
        return bytes;
      });
    },
  },
  {
    name: 'luks-v2',
    format: 'luks',
    made: 'qemu-img LUKS with its version field set to 2',
    refusedBy: ['version'],
    qemuFormat: null,
    build: async (dir, file) => {
      await writeFile(file, await readFile(join(dir, 'luks.img')));
      await patchFile(file, (bytes) => {
        bytes.writeUInt16BE(2, 6);
        return bytes;
      });
    },
  },
  {
    name: 'gpt-extra-partition',
    format: 'gpt',
    made: 'crafted GPT disk whose protective MBR also defines a Linux partition',
    refusedBy: ['mbr'],
    qemuFormat: 'raw',
    build: (_, file) =>
      writeFile(
        file,
        gptDisk(MiB, [partitionEntry({ boot: 0, chs: [0, 1, 1], type: 0x83, lba: 2048, sectors: 0 })]),
      ),
  },
  {
    name: 'vhd-differencing',
    format: 'vhd',
    made: 'qemu-img dynamic VHD with its disk type set to differencing (4)',
    refusedBy: ['parent'],
    qemuFormat: null,
    build: async (dir, file) => {
      await convert('vpc')(dir, file);
      await patchFile(file, (bytes) => {
        bytes.writeUInt32BE(4, 60);
        bytes.writeUInt32BE(4, bytes.length - SECTOR + 60);
        return bytes;
      });
    },
  },
  {
    name: 'qcow2-with-mbr-signature',
    format: 'qcow2',
    made: 'qemu-img qcow2 with 0x55 0xaa at bytes 510-511 (also looks like an MBR disk)',
    refusedBy: ['ambiguous'],
    build: async (dir, file) => {
      await convert('qcow2')(dir, file);
      await patchFile(file, (bytes) => {
        bytes.writeUInt16LE(0xaa55, 510);
        return bytes;
      });
    },
  },
];

interface QemuInfo {
  readonly format: string;
  readonly 'virtual-size': number;
}

const qemuInfo = async (file: string, format?: string): Promise<CorpusImage['qemu']> => {
  const { stdout } = await run(QEMU_IMG, ['info', '--output=json', ...(format ? ['-f', format] : []), file]);
  const info = JSON.parse(stdout) as QemuInfo;
  return { format: info.format, virtualSize: info['virtual-size'] };
};

/** Builds every recipe into `dir`; the manifest names files relative to the directory. */
const build = async (dir: string): Promise<CorpusImage[]> => {
  await writeFile(join(dir, 'source.raw'), sourceBytes());
  const images: CorpusImage[] = [];
  for (const recipe of RECIPES) {
    const file = `${recipe.name}.img`;
    await recipe.build(dir, join(dir, file));
    const qemu = recipe.qemuFormat === null ? null : await qemuInfo(join(dir, file), recipe.qemuFormat);
    images.push({
      name: recipe.name,
      file,
      format: recipe.format,
      safe: recipe.refusedBy === undefined,
      made: recipe.made,
      qemu,
      ...(recipe.refusedBy ? { refusedBy: recipe.refusedBy } : {}),
    });
  }
  await writeFile(join(dir, MANIFEST), JSON.stringify(images, null, 2));
  return images;
};

const MANIFEST = 'corpus.json';

const load = async (dir: string): Promise<CorpusImage[] | undefined> => {
  const manifest = await readFile(join(dir, MANIFEST), 'utf8').catch(() => undefined);
  if (!manifest) return undefined;
  return (JSON.parse(manifest) as CorpusImage[]).map((image) => ({ ...image, file: join(dir, image.file) }));
};

const missingQemu = () =>
  new Error(
    `qemu-img is not available at ${QEMU_IMG}: the disk-format tests build their corpus with the real qemu-img. ` +
      'Install Debian qemu-utils (apt-get install qemu-utils) or point QEMU_IMG at a qemu-img binary.',
  );

let corpus: Promise<readonly CorpusImage[]> | undefined;

/** The corpus, built on first use (or found in the temp directory from an earlier run). */
export const imageCorpus = (): Promise<readonly CorpusImage[]> => {
  corpus ??= (async () => {
    await access(QEMU_IMG, constants.X_OK).catch(() => {
      throw missingQemu();
    });
    const { stdout: version } = await run(QEMU_IMG, ['--version']);
    const recipe = await readFile(fileURLToPath(import.meta.url));
    const key = createHash('sha256').update(version).update(recipe).digest('hex').slice(0, 12);
    const dir = join(tmpdir(), `glance-image-corpus-${key}`);
    const existing = await load(dir);
    if (existing) return existing;
    const scratch = await mkdtemp(join(tmpdir(), 'glance-image-corpus-build-'));
    try {
      await build(scratch);
      // Another test process may have put its build in place first: then this one is dropped.
      await rename(scratch, dir).catch(() => {});
      const images = await load(dir);
      if (!images) throw new Error(`the disk image corpus could not be stored in ${dir}`);
      return images;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  })();
  return corpus;
};

export const readImage = (image: CorpusImage): Promise<Buffer> => readFile(image.file);
