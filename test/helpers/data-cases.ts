/**
 * The image data every upload and import path is tried with (the image-formats tests of
 * test/integration/uploads and test/integration/import), and what each path must make of it: the
 * qemu-img corpus (test/helpers/image-corpus.ts), each image declared as what it is, plus bad data
 * (empty, short, truncated headers, offsets and sizes past the data). Expectations come from the corpus (qemu-img's virtual size, the check that
 * refuses each unsafe image), not from the inspector under test.
 */

import { DISK_FORMATS } from '#shared/images/model';
import { type CorpusImage, imageCorpus, readImage } from './image-corpus.ts';

export interface DataCase {
  readonly name: string;
  readonly bytes: Buffer;
  /** Declared as what the data is; formats no API accepts (gpt, luks, qed) as `raw`. */
  readonly disk_format: string;
  readonly expected:
    | { readonly accept: true; readonly virtual_size: number | null }
    | { readonly accept: false; readonly reason: RegExp };
}

const declarable = (format: string): string =>
  (DISK_FORMATS as readonly string[]).includes(format) ? format : 'raw';

const unsafeReason = (image: CorpusImage): RegExp =>
  image.refusedBy?.includes('ambiguous')
    ? /^Image data matches more than one disk format \(/
    : new RegExp(`^Image data is ${image.format} and fails its safety checks: .+\\.$`);

const fromCorpus = async (image: CorpusImage): Promise<DataCase> => {
  const bytes = await readImage(image);
  const disk_format = declarable(image.format);
  if (!image.safe)
    return { name: image.name, bytes, disk_format, expected: { accept: false, reason: unsafeReason(image) } };
  if (!image.qemu) throw new Error(`corpus image ${image.name} has no qemu-img info`);
  // Declared raw (a format no API accepts), the virtual size is the byte size, as Glance records it.
  const virtual_size = disk_format === image.format ? image.qemu.virtualSize : bytes.byteLength;
  return { name: image.name, bytes, disk_format, expected: { accept: true, virtual_size } };
};

const refused = (reason: RegExp) => ({ accept: false, reason }) as const;
const NOT_DECLARED = (declared: string) =>
  new RegExp(
    `^Image disk_format '${declared}' does not match the data, which carries no known disk format header \\(raw\\)\\.$`,
  );

/** Data that is broken or hostile in ways the corpus is not. */
const badData = (corpus: ReadonlyMap<string, Buffer>): DataCase[] => {
  const of = (name: string) => {
    const bytes = corpus.get(name);
    if (!bytes) throw new Error(`no corpus image ${name}`);
    return Buffer.from(bytes);
  };
  const luks = of('luks');
  luks.writeUInt32BE(0xffff_ffff, 104);
  const vmdk = of('vmdk');
  vmdk.writeBigUInt64LE(0xffff_ffff_ffffn, 28);
  const qcow2 = of('qcow2');
  qcow2.writeBigUInt64BE(0xffff_ffff_ffff_ffffn, 24);
  const short = Buffer.alloc(300, 'short ');
  return [
    {
      name: 'empty, declared raw',
      bytes: Buffer.alloc(0),
      disk_format: 'raw',
      expected: { accept: true, virtual_size: null },
    },
    {
      name: 'empty, declared qcow2',
      bytes: Buffer.alloc(0),
      disk_format: 'qcow2',
      expected: refused(NOT_DECLARED('qcow2')),
    },
    {
      name: 'under 512 bytes, declared raw',
      bytes: short,
      disk_format: 'raw',
      expected: { accept: true, virtual_size: 300 },
    },
    {
      name: 'under 512 bytes, declared vhd',
      bytes: short,
      disk_format: 'vhd',
      expected: refused(NOT_DECLARED('vhd')),
    },
    {
      name: 'qcow2 header cut at 64 bytes',
      bytes: of('qcow2').subarray(0, 64),
      disk_format: 'qcow2',
      expected: refused(
        /^Image data is qcow2 and fails its safety checks: its qcow2 header is truncated \(64 of 104 bytes\)\.$/,
      ),
    },
    {
      name: 'qcow2 virtual size 2^64 - 1',
      bytes: qcow2,
      disk_format: 'qcow2',
      expected: refused(
        /^Image data is qcow2 and fails its safety checks: its virtual size \(18446744073709551615 bytes\) is beyond any real disk\.$/,
      ),
    },
    {
      name: 'VMDK descriptor offset past the data',
      bytes: vmdk,
      disk_format: 'vmdk',
      expected: refused(/^Image data is vmdk and fails its safety checks: /),
    },
    {
      name: 'LUKS payload offset past the data',
      bytes: luks,
      disk_format: 'raw',
      expected: refused(
        /^Image data is luks and fails its safety checks: its header places the disk data beyond the end of the data\.$/,
      ),
    },
    {
      name: 'VHDX cut after its headers',
      bytes: of('vhdx').subarray(0, 200_000),
      disk_format: 'vhdx',
      expected: refused(/^Image data is vhdx and fails its safety checks: /),
    },
  ];
};

/** Every case: the corpus images, then the bad data. */
export const dataCases = async (): Promise<DataCase[]> => {
  const corpus = await imageCorpus();
  const cases = await Promise.all(corpus.map(fromCorpus));
  return [...cases, ...badData(new Map(cases.map((c) => [c.name, c.bytes])))];
};

/** Runs `work` over `items`, at most `limit` at a time (the machine is small). */
export const inBatches = async <T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};
