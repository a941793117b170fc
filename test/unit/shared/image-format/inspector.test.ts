/**
 * The inspector on crafted bytes: each format's fields and checks one at a time, hostile values
 * (offsets past the data, u64 fields that overflow), and the streaming mechanics (regions across
 * chunks, the rolling tail, short data). Real images are in corpus.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  FormatInspector,
  INSPECTION_BUDGET,
  type Inspection,
  inspectBytes,
  type SignatureFormat,
} from '#shared/image-format/inspector';

const SECTOR = 512;

const only = (inspection: Inspection, format: SignatureFormat) => {
  expect(inspection.matches.map((match) => match.format)).toEqual([format]);
  const [match] = inspection.matches;
  if (!match) throw new Error('no match');
  return match;
};
const checksOf = (bytes: Uint8Array, format: SignatureFormat) =>
  only(inspectBytes(bytes), format).failures.map((failure) => failure.check);

/** Feeds `bytes` one byte at a time: the worst chunking. */
const inspectBytewise = (bytes: Uint8Array) => {
  const inspector = new FormatInspector();
  for (let i = 0; i < bytes.length; i++) inspector.update(bytes.subarray(i, i + 1));
  return inspector.finish();
};

// ------------------------------------------------------------------------------------------------
// qcow2

const qcow2 = (
  fields: {
    version?: number;
    backing?: bigint;
    size?: bigint;
    features?: bigint;
    headerLength?: number;
  } = {},
) => {
  const header = Buffer.alloc(SECTOR);
  header.write('QFI\xfb', 0, 'latin1');
  header.writeUInt32BE(fields.version ?? 3, 4);
  header.writeBigUInt64BE(fields.backing ?? 0n, 8);
  header.writeUInt32BE(16, 20);
  header.writeBigUInt64BE(fields.size ?? 1n << 30n, 24);
  header.writeBigUInt64BE(fields.features ?? 0n, 72);
  header.writeUInt32BE(fields.headerLength ?? 112, 100);
  return header;
};

describe('qcow2', () => {
  it('reports the header size as virtual size', () => {
    expect(only(inspectBytes(qcow2({ size: 12345n * 512n })), 'qcow2')).toEqual({
      format: 'qcow2',
      virtualSize: 12345 * 512,
      failures: [],
    });
  });

  it.each([
    ['dirty', 0n, []],
    ['corrupt', 1n, []],
    ['external data file', 2n, ['data_file']],
    ['compression type', 3n, []],
    ['extended L2 (unknown to oslo.utils too)', 4n, ['unknown_features']],
    ['bit 5', 5n, ['unknown_features']],
    ['bit 63', 63n, ['unknown_features']],
  ])('incompatible feature bit %s (%i)', (_, bit, checks) => {
    expect(checksOf(qcow2({ features: 1n << bit }), 'qcow2')).toEqual(checks);
  });

  it('names every problem at once', () => {
    expect(checksOf(qcow2({ backing: 0x200n, features: (1n << 2n) | (1n << 9n) }), 'qcow2')).toEqual([
      'backing_file',
      'data_file',
      'unknown_features',
    ]);
  });

  it('version 2 has no feature field to check', () => {
    expect(checksOf(qcow2({ version: 2, features: 0xffn }), 'qcow2')).toEqual([]);
  });

  it.each([1, 0, 4, 0xffffffff])('version %i is refused', (version) => {
    expect(checksOf(qcow2({ version }), 'qcow2')).toContain('version');
  });

  it('a header shorter than its version needs is refused, not read past', () => {
    expect(checksOf(qcow2().subarray(0, 90), 'qcow2')).toEqual(['header']);
    expect(checksOf(qcow2({ version: 2 }).subarray(0, 71), 'qcow2')).toEqual(['header']);
    expect(checksOf(qcow2().subarray(0, 5), 'qcow2')).toEqual(['header']);
    expect(inspectBytes(qcow2().subarray(0, 3)).matches).toEqual([]);
  });

  it('a version 3 header length under 104 is refused', () => {
    expect(checksOf(qcow2({ headerLength: 72 }), 'qcow2')).toEqual(['header']);
  });

  it('a virtual size past 2^53 is refused, never rounded', () => {
    const match = only(inspectBytes(qcow2({ size: 0xffff_ffff_ffff_ffffn })), 'qcow2');
    expect(match.virtualSize).toBeNull();
    expect(match.failures.map((failure) => failure.check)).toEqual(['virtual_size']);
  });
});

// ------------------------------------------------------------------------------------------------
// VHD

const vhdFooter = (fields: {
  creator?: string;
  current?: bigint;
  chs?: [number, number, number];
  type?: number;
}) => {
  const footer = Buffer.alloc(SECTOR);
  footer.write('conectix', 0, 'latin1');
  footer.write(fields.creator ?? 'qemu', 28, 'latin1');
  footer.writeBigUInt64BE(fields.current ?? 0n, 40);
  footer.writeBigUInt64BE(fields.current ?? 0n, 48);
  const [cylinders, heads, sectors] = fields.chs ?? [0, 0, 0];
  footer.writeUInt16BE(cylinders, 56);
  footer[58] = heads;
  footer[59] = sectors;
  footer.writeUInt32BE(fields.type ?? 3, 60);
  return footer;
};

describe('vhd', () => {
  it.each([
    ['qemu (CHS)', 'qemu', 302 * 4 * 17 * 512],
    ['vpc  (CHS)', 'vpc ', 302 * 4 * 17 * 512],
    ['Hyper-V (current size)', 'win ', 10 * 1024 * 1024],
    ['qem2 (current size)', 'qem2', 10 * 1024 * 1024],
    ['disk2vhd (current size)', 'd2v ', 10 * 1024 * 1024],
  ])('virtual size as qemu computes it: %s', (_, creator, size) => {
    const footer = vhdFooter({ creator, current: 10n * 1024n * 1024n, chs: [302, 4, 17] });
    expect(only(inspectBytes(footer), 'vhd').virtualSize).toBe(size);
  });

  it('a maximal CHS geometry means the current size', () => {
    const footer = vhdFooter({ current: 3n << 40n, chs: [65535, 16, 255] });
    expect(only(inspectBytes(footer), 'vhd').virtualSize).toBe(3 * 2 ** 40);
  });

  it('finds the footer of a fixed disk at the end, whatever the chunking', () => {
    const disk = Buffer.concat([Buffer.alloc(4096, 7), vhdFooter({ chs: [2, 2, 2], type: 2 })]);
    const expected = { format: 'vhd', virtualSize: 8 * 512, failures: [] };
    expect(only(inspectBytes(disk), 'vhd')).toEqual(expected);
    expect(only(inspectBytewise(disk), 'vhd')).toEqual(expected);
  });

  it.each([
    [4, ['parent']],
    [1, ['disk_type']],
    [2, []],
    [3, []],
  ])('disk type %i', (type, checks) => {
    expect(checksOf(vhdFooter({ type, chs: [1, 1, 1] }), 'vhd')).toEqual(checks);
  });

  it('a truncated footer at the start is refused', () => {
    expect(checksOf(vhdFooter({}).subarray(0, 100), 'vhd')).toEqual(['header']);
  });
});

// ------------------------------------------------------------------------------------------------
// VHDX

const guid = (text: string) => {
  const [a = '', b = '', c = '', d = '', e = ''] = text.split('-');
  const bytes = (hex: string) => Buffer.from(hex, 'hex');
  return Buffer.concat([bytes(a).reverse(), bytes(b).reverse(), bytes(c).reverse(), bytes(d), bytes(e)]);
};
const METADATA = guid('8B7CA206-4790-4B9A-B8FE-575F050F886E');
const VIRTUAL_DISK_SIZE = guid('2FA54224-CD1B-4876-B211-5DBED83BF4B8');

const vhdx = (
  fields: { metadataAt?: bigint; itemAt?: number; regions?: number; items?: number; size?: bigint } = {},
) => {
  const metadataAt = fields.metadataAt ?? 1024n * 1024n;
  const disk = Buffer.alloc(1024 * 1024 + 128 * 1024);
  disk.write('vhdxfile', 0, 'latin1');
  const table = 192 * 1024;
  disk.write('regi', table, 'latin1');
  disk.writeUInt32LE(fields.regions ?? 2, table + 8);
  guid('2DC27766-F623-4200-9D64-115E9BFD4A08').copy(disk, table + 16);
  disk.writeBigUInt64LE(2n * 1024n * 1024n, table + 32);
  METADATA.copy(disk, table + 48);
  disk.writeBigUInt64LE(metadataAt, table + 64);
  if (metadataAt + 64n * 1024n <= BigInt(disk.length)) {
    const at = Number(metadataAt);
    disk.write('metadata', at, 'latin1');
    disk.writeUInt16LE(fields.items ?? 1, at + 10);
    VIRTUAL_DISK_SIZE.copy(disk, at + 32);
    disk.writeUInt32LE(fields.itemAt ?? 0x10000, at + 48);
    disk.writeUInt32LE(8, at + 52);
    const item = at + (fields.itemAt ?? 0x10000);
    if (item + 8 <= disk.length) disk.writeBigUInt64LE(fields.size ?? 5n << 30n, item);
  }
  return disk;
};

describe('vhdx', () => {
  it('follows region table, metadata table and item to the virtual size', () => {
    expect(only(inspectBytes(vhdx()), 'vhdx')).toEqual({
      format: 'vhdx',
      virtualSize: 5 * 2 ** 30,
      failures: [],
    });
    expect(only(inspectBytewise(vhdx()), 'vhdx').virtualSize).toBe(5 * 2 ** 30);
  });

  it.each([
    ['a metadata region before the region table', { metadataAt: 4096n }],
    ['a metadata region past the data', { metadataAt: 1n << 40n }],
    ['a metadata offset overflowing 64 bits', { metadataAt: 0xffff_ffff_ffff_fff0n }],
    ['a virtual size item inside the metadata table', { itemAt: 16 }],
    ['a virtual size item past the data', { itemAt: 0xffff_fff0 }],
    ['too many region entries', { regions: 2048 }],
    ['too many metadata entries', { items: 4000 }],
    ['no metadata entries', { items: 0 }],
  ])('%s is refused', (_, fields) => {
    expect(checksOf(vhdx(fields), 'vhdx')).toEqual(['header']);
  });

  it('data ending before the region table is refused', () => {
    expect(checksOf(vhdx().subarray(0, 100_000), 'vhdx')).toEqual(['header']);
  });
});

// ------------------------------------------------------------------------------------------------
// VMDK

const DESCRIPTOR = [
  '# Disk DescriptorFile',
  'version=1',
  'CID=fffffffe',
  'parentCID=ffffffff',
  'createType="monolithicSparse"',
  '',
  '# Extent description',
  'RW 8192 SPARSE "disk.vmdk"',
  '',
  'ddb.virtualHWVersion = "4"',
  '',
].join('\n');

const vmdkHeader = (
  fields: { version?: number; capacity?: bigint; descAt?: bigint; descSectors?: bigint; gd?: bigint } = {},
) => {
  const header = Buffer.alloc(SECTOR);
  header.write('KDMV', 0, 'latin1');
  header.writeUInt32LE(fields.version ?? 1, 4);
  header.writeBigUInt64LE(fields.capacity ?? 8192n, 12);
  header.writeBigUInt64LE(128n, 20);
  header.writeBigUInt64LE(fields.descAt ?? 1n, 28);
  header.writeBigUInt64LE(fields.descSectors ?? 2n, 36);
  header.writeBigUInt64LE(fields.gd ?? 3n, 56);
  return header;
};
const vmdk = (descriptor = DESCRIPTOR, fields: Parameters<typeof vmdkHeader>[0] = {}) => {
  const region = Buffer.alloc(Number(fields.descSectors ?? 2n) * SECTOR);
  region.write(descriptor, 'latin1');
  return Buffer.concat([vmdkHeader(fields), region, Buffer.alloc(4 * SECTOR)]);
};

describe('vmdk sparse extent', () => {
  it('accepts a plain monolithicSparse descriptor and reports the create type', () => {
    expect(only(inspectBytes(vmdk()), 'vmdk')).toEqual({
      format: 'vmdk',
      virtualSize: 8192 * 512,
      failures: [],
      createType: 'monolithicSparse',
    });
  });

  it.each([
    ['an absolute extent path', 'RW 8192 SPARSE "/etc/passwd"', 'extents'],
    ['a Windows extent path', 'RW 8192 FLAT "..\\\\secret" 0', 'extents'],
    ['an unknown line', 'include "/etc/passwd"', 'descriptor'],
  ])('%s is refused', (_, line, check) => {
    expect(checksOf(vmdk(DESCRIPTOR.replace('RW 8192 SPARSE "disk.vmdk"', line)), 'vmdk')).toContain(check);
  });

  it('a descriptor without extents or createType is refused', () => {
    expect(checksOf(vmdk('# nothing\nversion=1\n'), 'vmdk')).toEqual(['descriptor', 'extents']);
  });

  it('a descriptor that is not ASCII is refused', () => {
    expect(checksOf(vmdk(`${DESCRIPTOR}# caf\u00e9\n`), 'vmdk')).toEqual(['descriptor']);
  });

  it('a capacity of 0 (qemu would open the descriptor extents) is refused', () => {
    expect(checksOf(vmdk(DESCRIPTOR, { capacity: 0n }), 'vmdk')).toEqual(['capacity']);
  });

  it.each([
    ['version 4', { version: 4 }],
    ['version 0', { version: 0 }],
    ['a descriptor elsewhere than sector 1', { descAt: 7n }],
    ['a descriptor offset overflowing 64 bits', { descAt: 0xffff_ffff_ffff_ffffn }],
    ['no descriptor', { descSectors: 0n }],
  ])('%s is refused', (_, fields) => {
    expect(checksOf(vmdk(DESCRIPTOR, fields), 'vmdk').length).toBeGreaterThan(0);
  });

  it('a huge descriptor size is read up to 1 MiB - 1 only, within the budget', () => {
    const text = `${DESCRIPTOR}${'# padding line\n'.repeat(100_000)}`;
    const bytes = Buffer.concat([vmdkHeader({ descSectors: 1n << 60n }), Buffer.from(text, 'latin1')]);
    const inspector = new FormatInspector();
    for (let offset = 0; offset < bytes.length; offset += 100_000)
      inspector.update(bytes.subarray(offset, offset + 100_000));
    expect(only(inspector.finish(), 'vmdk').failures).toEqual([]);
    expect(inspector.peakRetainedBytes).toBeLessThanOrEqual(INSPECTION_BUDGET);
    expect(inspector.peakRetainedBytes).toBeGreaterThanOrEqual(1024 * 1024 - 1);
  });

  it('a descriptor cut short by the end of the data is refused', () => {
    expect(checksOf(vmdk().subarray(0, 700), 'vmdk')).toEqual(['descriptor']);
  });

  it('a capacity overflowing 64 bits once in bytes is refused', () => {
    const match = only(inspectBytes(vmdk(DESCRIPTOR, { capacity: 0xffff_ffff_ffff_ffffn })), 'vmdk');
    expect(match.virtualSize).toBeNull();
    expect(match.failures.map((failure) => failure.check)).toEqual(['virtual_size']);
  });
});

describe('vmdk streamOptimized footer', () => {
  const GD_AT_END = 0xffff_ffff_ffff_ffffn;
  const marker = (type: number) => {
    const sector = Buffer.alloc(SECTOR);
    sector.writeBigUInt64LE(1n, 0);
    sector.writeUInt32LE(type, 12);
    return sector;
  };
  const stream = (tamper: { footer?: (footer: Buffer) => void; marker?: Buffer; eos?: Buffer } = {}) => {
    const descriptor = DESCRIPTOR.replace('monolithicSparse', 'streamOptimized');
    const body = vmdk(descriptor, { gd: GD_AT_END });
    const footer = vmdkHeader({ gd: 5n });
    tamper.footer?.(footer);
    return Buffer.concat([body, tamper.marker ?? marker(3), footer, tamper.eos ?? Buffer.alloc(SECTOR)]);
  };

  it('accepts a footer that matches the header, whatever the chunking', () => {
    expect(checksOf(stream(), 'vmdk')).toEqual([]);
    expect(only(inspectBytewise(stream()), 'vmdk').failures).toEqual([]);
  });

  it.each([
    ['another version', (footer: Buffer) => footer.writeUInt32LE(3, 4)],
    ['another capacity', (footer: Buffer) => footer.writeBigUInt64LE(1n << 40n, 12)],
    ['another descriptor size', (footer: Buffer) => footer.writeBigUInt64LE(9n, 36)],
    ['another footer announced', (footer: Buffer) => footer.writeBigUInt64LE(GD_AT_END, 56)],
    ['no signature', (footer: Buffer) => footer.write('XXXX', 0, 'latin1')],
  ])('refuses a footer with %s', (_, footer) => {
    expect(checksOf(stream({ footer }), 'vmdk')).toEqual(['footer']);
  });

  it('refuses bad markers and a missing footer', () => {
    expect(checksOf(stream({ marker: marker(0) }), 'vmdk')).toEqual(['footer']);
    expect(checksOf(stream({ eos: marker(0) }), 'vmdk')).toEqual(['footer']);
    const noFooter = vmdk(DESCRIPTOR.replace('monolithicSparse', 'streamOptimized'), { gd: GD_AT_END });
    expect(checksOf(noFooter.subarray(0, 3 * SECTOR), 'vmdk')).toEqual(['footer']);
  });
});

describe('vmdk descriptor file', () => {
  it.each([
    [
      'qemu monolithicFlat',
      '# Disk DescriptorFile\nversion=1\nCID=1\ncreateType="monolithicFlat"\nRW 8 FLAT "x-flat.vmdk" 0\n',
    ],
    ['blank lines and comments before version (qemu probe)', '#\n# x\n   \nversion=2\r\nRW 8 FLAT "x" 0\n'],
    ['createType without version (oslo.utils)', 'CID=1\ncreateType="vmfs"\nRW 8 VMFS "x" 0\n'],
    ['a long comment before the version', `${'#'.repeat(1500)}\nversion=1\n`],
  ])('%s is recognised and refused', (_, text) => {
    expect(checksOf(Buffer.from(text, 'latin1'), 'vmdk')).toEqual(['descriptor']);
  });

  it.each([
    ['plain text', 'hello, this is a README\n'],
    ['a blank first line', '\nversion=1\n'],
    ['version past the first 2 KiB', `${'#'.repeat(2100)}\nversion=1\n`],
  ])('%s is not a descriptor', (_, text) => {
    expect(inspectBytes(Buffer.from(text, 'latin1')).matches).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
// VDI, QED, LUKS, ISO, GPT

describe('vdi', () => {
  const vdi = () => {
    const header = Buffer.alloc(SECTOR);
    header.write('<<< Oracle VM VirtualBox Disk Image >>>\n', 0, 'latin1');
    header.writeUInt32LE(0xbeda107f, 0x40);
    header.writeBigUInt64LE(7n << 20n, 0x170);
    return header;
  };
  it('reports the disk size, no checks', () => {
    expect(only(inspectBytes(vdi()), 'vdi')).toEqual({ format: 'vdi', virtualSize: 7 << 20, failures: [] });
  });
  it('a truncated header is refused', () => {
    expect(checksOf(vdi().subarray(0, 0x100), 'vdi')).toEqual(['header']);
  });
});

describe('qed', () => {
  it('is always refused, even truncated', () => {
    const header = Buffer.alloc(SECTOR);
    header.write('QED\0', 0, 'latin1');
    header.writeBigUInt64LE(1n << 30n, 48);
    expect(only(inspectBytes(header), 'qed')).toMatchObject({
      virtualSize: 2 ** 30,
      failures: [{ check: 'banned' }],
    });
    expect(checksOf(header.subarray(0, 4), 'qed')).toEqual(['banned']);
  });
});

describe('luks', () => {
  const luks = (version: number, payloadSectors: number, bytes = 8192) => {
    const data = Buffer.alloc(bytes);
    Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]).copy(data);
    data.writeUInt16BE(version, 6);
    data.writeUInt32BE(payloadSectors, 104);
    return data;
  };
  it('reports the data after the payload offset', () => {
    expect(only(inspectBytes(luks(1, 4)), 'luks')).toEqual({
      format: 'luks',
      virtualSize: 8192 - 2048,
      failures: [],
    });
  });
  it('refuses version 2', () => {
    expect(checksOf(luks(2, 4), 'luks')).toEqual(['version']);
  });
  it('refuses a payload offset past the data', () => {
    const match = only(inspectBytes(luks(1, 0xffffffff)), 'luks');
    expect(match).toMatchObject({ virtualSize: null, failures: [{ check: 'virtual_size' }] });
  });
  it('refuses a truncated header', () => {
    expect(checksOf(luks(1, 4).subarray(0, 50), 'luks')).toEqual(['header']);
  });
});

describe('iso', () => {
  const iso = (id: string, bytes = 40 * 1024) => {
    const data = Buffer.alloc(bytes);
    data[32 * 1024] = 1;
    data.write(id, 32 * 1024 + 1, 'latin1');
    return data;
  };
  it.each(['CD001', 'NSR02', 'NSR03'])('%s at 32 KiB is an ISO of its data size', (id) => {
    expect(only(inspectBytes(iso(id)), 'iso')).toEqual({
      format: 'iso',
      virtualSize: 40 * 1024,
      failures: [],
    });
  });
  it('a descriptor cut short is not an ISO', () => {
    expect(inspectBytes(iso('CD001', 33 * 1024)).matches).toEqual([]);
  });
});

describe('gpt and mbr', () => {
  const entry = (boot: number, chs: number[], type: number, lba: number) => {
    const bytes = Buffer.alloc(16);
    bytes[0] = boot;
    bytes.set(chs, 1);
    bytes[4] = type;
    bytes.writeUInt32LE(lba, 8);
    bytes.writeUInt32LE(1000, 12);
    return bytes;
  };
  const disk = (...entries: Buffer[]) => {
    const sector = Buffer.alloc(4 * SECTOR);
    entries.forEach((e, i) => {
      e.copy(sector, 446 + 16 * i);
    });
    sector.writeUInt16LE(0xaa55, 510);
    return sector;
  };
  const protective = entry(0, [0, 2, 0], 0xee, 1);

  it.each([
    ['a protective MBR', [protective], []],
    ['an MBR disk', [entry(0x80, [1, 1, 0], 0x83, 63), entry(0, [5, 5, 5], 0x82, 9999)], []],
    ['a bad boot flag', [entry(0x7f, [1, 1, 0], 0x83, 63)], ['mbr']],
    ['a protective entry with a bad CHS', [entry(0, [0, 1, 0], 0xee, 1)], ['mbr']],
    ['a protective entry not at LBA 1', [entry(0, [0, 2, 0], 0xee, 2)], ['mbr']],
    ['a protective entry and another', [protective, entry(0, [1, 1, 1], 0x83, 2048)], ['mbr']],
    ['a protective entry in second place', [Buffer.alloc(16), protective], ['mbr']],
    ['no partitions', [], ['mbr']],
  ])('%s', (_, entries, checks) => {
    expect(checksOf(disk(...entries), 'gpt')).toEqual(checks);
  });

  it('a FAT boot sector is not a partition table', () => {
    const fat = disk();
    fat[0x10] = 2;
    fat[0x15] = 0xf8;
    expect(inspectBytes(fat).matches).toEqual([]);
  });

  it('the virtual size is the data size (qemu reads it raw)', () => {
    expect(only(inspectBytes(disk(protective)), 'gpt').virtualSize).toBe(4 * SECTOR);
  });
});

// ------------------------------------------------------------------------------------------------
// Streaming mechanics

describe('streaming', () => {
  it('no data, or data under a sector, is raw', () => {
    expect(inspectBytes(new Uint8Array(0))).toEqual({ size: 0, matches: [] });
    expect(inspectBytes(Buffer.alloc(511, 0xaa))).toEqual({ size: 511, matches: [] });
    expect(new FormatInspector().finish()).toEqual({ size: 0, matches: [] });
  });

  it('finish is final: the same answer again, later chunks ignored', () => {
    const inspector = new FormatInspector();
    inspector.update(qcow2());
    const first = inspector.finish();
    inspector.update(Buffer.alloc(1000));
    expect(inspector.finish()).toBe(first);
    expect(inspector.size).toBe(SECTOR);
  });

  it('empty chunks change nothing', () => {
    const inspector = new FormatInspector();
    for (const part of [
      new Uint8Array(0),
      qcow2().subarray(0, 100),
      new Uint8Array(0),
      qcow2().subarray(100),
    ]) {
      inspector.update(part);
    }
    expect(inspector.finish()).toEqual(inspectBytes(qcow2()));
  });

  it('holds only the regions it needs: a large raw stream keeps a few KiB', () => {
    const inspector = new FormatInspector();
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    for (let i = 0; i < 64; i++) inspector.update(chunk);
    expect(inspector.finish()).toEqual({ size: 64 * 1024 * 1024, matches: [] });
    expect(inspector.peakRetainedBytes).toBeLessThan(16 * 1024);
    expect(inspector.retainedBytes).toBe(0);
  });

  it('data that carries two signatures reports both', () => {
    const both = qcow2();
    both.writeUInt16LE(0xaa55, 510);
    both[446] = 0x80;
    both[450] = 0x83;
    expect(inspectBytes(both).matches.map((match) => match.format)).toEqual(['qcow2', 'gpt']);
  });
});
