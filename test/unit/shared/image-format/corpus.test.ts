/**
 * The format rules on real disk images: the corpus of test/helpers/image-corpus.ts, built with
 * qemu-img (this file fails, saying so, where qemu-img is missing). Virtual sizes are compared with
 * what `qemu-img info` reports for the same file.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_IMAGE_FORMAT_POLICY,
  decideImageData,
  type ImageFormatPolicy,
} from '#shared/image-format/decision';
import {
  FormatInspector,
  INSPECTION_BUDGET,
  type Inspection,
  inspectBytes,
  inspecting,
} from '#shared/image-format/inspector';
import { DISK_FORMATS } from '#shared/images/model';
import { chunked, chunkings } from '#test/helpers/chunks';
import { type CorpusImage, imageCorpus, readImage } from '#test/helpers/image-corpus';

const corpus = await imageCorpus();
const bytesOf = new Map<string, Buffer>(
  await Promise.all(corpus.map(async (image) => [image.name, await readImage(image)] as const)),
);
const data = (image: CorpusImage): Buffer => {
  const bytes = bytesOf.get(image.name);
  if (!bytes) throw new Error(`no bytes for ${image.name}`);
  return bytes;
};
const named = (name: string): CorpusImage => {
  const image = corpus.find((candidate) => candidate.name === name);
  if (!image) throw new Error(`no corpus image ${name}`);
  return image;
};
const safe = corpus.filter((image) => image.safe);
const unsafe = corpus.filter((image) => !image.safe);

/** Inspects `bytes` fed in chunks of the given sizes, cycling through them. */
const inspectChunked = (
  bytes: Uint8Array,
  sizes: readonly number[],
): { inspection: Inspection; peak: number } => {
  const inspector = new FormatInspector();
  for (const chunk of chunked(bytes, sizes)) inspector.update(chunk);
  return { inspection: inspector.finish(), peak: inspector.peakRetainedBytes };
};

/** Uneven chunks, with sizes that split headers in awkward places. */
const AWKWARD = [1, 7, 500, 3, 4096, 65_536, 511, 131_072];

const bare = (disk_format: string) => ({ disk_format, container_format: 'bare' });
const decide = (image: CorpusImage, disk_format: string, policy?: ImageFormatPolicy) =>
  decideImageData(bare(disk_format), inspectChunked(data(image), AWKWARD).inspection, policy);

describe('the corpus', () => {
  it('has every inspected format, safe and unsafe variants', () => {
    expect(new Set(safe.map((image) => image.format))).toEqual(
      new Set(['raw', 'qcow2', 'vhd', 'vhdx', 'vmdk', 'vdi', 'iso', 'gpt', 'luks']),
    );
    expect(unsafe.length).toBeGreaterThanOrEqual(15);
  });
});

describe('safe images declared as what they are', () => {
  it.each(safe.map((image) => [image.name, image] as const))(
    '%s is accepted with the virtual size qemu-img reports',
    (_, image) => {
      const verdict = decide(image, image.format);
      expect(verdict).toMatchObject({
        accept: true,
        detected: image.format,
        virtual_size: image.qemu?.virtualSize,
      });
      expect(image.qemu?.virtualSize).toBeGreaterThan(0);
    },
  );

  it.each(safe.map((image) => [image.name, image] as const))(
    '%s declared raw is accepted with its byte size, as Glance does',
    (_, image) => {
      const verdict = decide(image, 'raw');
      expect(verdict).toMatchObject({
        accept: true,
        detected: image.format,
        virtual_size: data(image).length,
      });
      if (verdict.accept) expect(verdict.warnings.length > 0).toBe(image.format !== 'raw');
    },
  );
});

describe('unsafe images', () => {
  it.each(unsafe.map((image) => [image.name, image.made, image] as const))(
    '%s (%s) is refused declared as itself and declared raw',
    (_, __, image) => {
      const inspection = inspectBytes(data(image));
      const found = inspection.matches.find((match) => match.format === image.format);
      expect(found, 'the inspector recognises the format').toBeDefined();
      for (const check of image.refusedBy ?? []) {
        if (check === 'ambiguous' || check === 'create_type') continue;
        expect(found?.failures.map((failure) => failure.check)).toContain(check);
      }
      for (const declared of [image.format, 'raw']) {
        const verdict = decide(image, declared);
        expect(verdict.accept, `declared ${declared}`).toBe(false);
        if (!verdict.accept && image.refusedBy?.includes('ambiguous'))
          expect(verdict.reason).toMatch(/ambiguous/);
        if (!verdict.accept && image.refusedBy?.includes('create_type')) {
          expect(verdict.reason).toMatch(/create type "vmfsSparse" is not allowed/);
        }
      }
    },
  );
});

/**
 * Every corpus image declared as every disk format of the API (container `bare`):
 * Q accepted with qemu-img's virtual size, B accepted with the byte size (declared raw),
 * N accepted without a virtual size (nothing recognised, format not inspectable), - refused.
 */
const MATRIX = `
                          ami ari aki vhd vhdx vmdk raw qcow2 vdi iso ploop
raw                        N   N   N   -   -    -    Q   -     -   -   N
qcow2                      -   -   -   -   -    -    B   Q     -   -   -
qcow2-v2                   -   -   -   -   -    -    B   Q     -   -   -
qcow2-zstd                 -   -   -   -   -    -    B   Q     -   -   -
vhd                        -   -   -   Q   -    -    B   -     -   -   -
vhd-fixed                  -   -   -   Q   -    -    B   -     -   -   -
vhdx                       -   -   -   -   Q    -    B   -     -   -   -
vmdk                       -   -   -   -   -    Q    B   -     -   -   -
vmdk-stream                -   -   -   -   -    Q    B   -     -   -   -
vmdk-stream-footer         -   -   -   -   -    Q    B   -     -   -   -
vdi                        -   -   -   -   -    -    B   -     Q   -   -
luks                       -   -   -   -   -    -    B   -     -   -   -
iso                        -   -   -   -   -    -    B   -     -   Q   -
iso-hybrid                 -   -   -   -   -    -    B   -     -   Q   -
gpt                        -   -   -   -   -    -    B   -     -   -   -
mbr                        -   -   -   -   -    -    B   -     -   -   -
qcow2-backing-file         -   -   -   -   -    -    -   -     -   -   -
qcow2-data-file            -   -   -   -   -    -    -   -     -   -   -
qcow2-unknown-feature      -   -   -   -   -    -    -   -     -   -   -
qcow2-extended-l2          -   -   -   -   -    -    -   -     -   -   -
qcow-v1                    -   -   -   -   -    -    -   -     -   -   -
qed                        -   -   -   -   -    -    -   -     -   -   -
vmdk-flat-descriptor       -   -   -   -   -    -    -   -     -   -   -
vmdk-split-descriptor      -   -   -   -   -    -    -   -     -   -   -
vmdk-extent-path           -   -   -   -   -    -    -   -     -   -   -
vmdk-zero-capacity         -   -   -   -   -    -    -   -     -   -   -
vmdk-create-type           -   -   -   -   -    -    -   -     -   -   -
vmdk-footer-mismatch       -   -   -   -   -    -    -   -     -   -   -
vmdk-footer-missing        -   -   -   -   -    -    -   -     -   -   -
luks-v2                    -   -   -   -   -    -    -   -     -   -   -
gpt-extra-partition        -   -   -   -   -    -    -   -     -   -   -
vhd-differencing           -   -   -   -   -    -    -   -     -   -   -
qcow2-with-mbr-signature   -   -   -   -   -    -    -   -     -   -   -
`;

const [header = '', ...rows] = MATRIX.trim().split('\n');
const columns = header.trim().split(/\s+/);
const cases = rows.flatMap((row) => {
  const [name = '', ...codes] = row.trim().split(/\s+/);
  return columns.map((declared, i) => [name, declared, codes[i] ?? '?'] as const);
});

describe('every image declared as every disk format', () => {
  it('covers the whole corpus and every disk format of the API', () => {
    expect(columns).toEqual([...DISK_FORMATS]);
    expect(rows.map((row) => row.trim().split(/\s+/)[0]).sort()).toEqual(
      corpus.map((image) => image.name).sort(),
    );
  });

  it.each(cases)('%s declared %s: %s', (name, declared, code) => {
    const image = named(name);
    const verdict = decide(image, declared);
    const expected = {
      Q: { accept: true, virtual_size: image.qemu?.virtualSize },
      B: { accept: true, virtual_size: data(image).length },
      N: { accept: true, virtual_size: null },
      '-': { accept: false },
    }[code];
    expect(expected, `matrix code ${code}`).toBeDefined();
    expect(verdict).toMatchObject(expected ?? {});
  });
});

describe('other containers', () => {
  it.each(corpus.map((image) => [image.name, image] as const))(
    '%s in an ovf container is not inspected',
    (_, image) => {
      expect(
        decideImageData({ disk_format: 'qcow2', container_format: 'ovf' }, inspectBytes(data(image))),
      ).toEqual({ accept: true, virtual_size: null, detected: null, warnings: [] });
    },
  );
});

describe('configuration', () => {
  const policy = (changes: Partial<ImageFormatPolicy>): ImageFormatPolicy => ({
    ...DEFAULT_IMAGE_FORMAT_POLICY,
    ...changes,
  });

  it('vmdk_allowed_types limits the VMDK create types', () => {
    const sparseOnly = policy({ vmdkAllowedTypes: ['monolithicSparse'] });
    expect(decide(named('vmdk'), 'vmdk', sparseOnly)).toMatchObject({ accept: true });
    expect(decide(named('vmdk-stream'), 'vmdk', sparseOnly)).toMatchObject({
      accept: false,
      reason: expect.stringMatching(/create type "streamOptimized" is not allowed/),
    });
    const none = policy({ vmdkAllowedTypes: [] });
    expect(decide(named('vmdk'), 'vmdk', none)).toMatchObject({ accept: false });
    expect(decide(named('vmdk'), 'raw', none)).toMatchObject({ accept: false });
    const vmfs = policy({ vmdkAllowedTypes: ['VMFSSPARSE'] });
    expect(decide(named('vmdk-create-type'), 'vmdk', vmfs)).toMatchObject({ accept: true });
  });

  it('an allow-listed create type does not make a descriptor file or a path safe', () => {
    const any = policy({ vmdkAllowedTypes: ['monolithicFlat', 'twoGbMaxExtentSparse', 'monolithicSparse'] });
    for (const name of [
      'vmdk-flat-descriptor',
      'vmdk-split-descriptor',
      'vmdk-extent-path',
      'vmdk-zero-capacity',
    ]) {
      expect(decide(named(name), 'vmdk', any), name).toMatchObject({ accept: false });
    }
  });

  it('gpt_safety_checks_nonfatal turns the MBR check into a warning', () => {
    const lenient = policy({ gptSafetyChecksNonfatal: ['mbr'] });
    const verdict = decide(named('gpt-extra-partition'), 'raw', lenient);
    expect(verdict).toMatchObject({
      accept: true,
      detected: 'gpt',
      virtual_size: data(named('gpt-extra-partition')).length,
    });
    if (verdict.accept) expect(verdict.warnings.join(' ')).toMatch(/non-fatal/);
  });

  it('without require_image_format_match a mismatch only warns; the safety checks still apply', () => {
    const loose = policy({ requireImageFormatMatch: false });
    const mismatch = decide(named('qcow2'), 'vmdk', loose);
    expect(mismatch).toMatchObject({ accept: true, detected: 'qcow2', virtual_size: null });
    if (mismatch.accept) expect(mismatch.warnings.join(' ')).toMatch(/does not match/);
    expect(decide(named('qcow2-backing-file'), 'vmdk', loose)).toMatchObject({ accept: false });
    expect(decide(named('qcow2-with-mbr-signature'), 'qcow2', loose)).toMatchObject({ accept: false });
  });
});

describe('streaming', () => {
  it.each(corpus.map((image) => [image.name, image] as const))(
    '%s: any chunking gives the same inspection, within the memory budget',
    (_, image) => {
      const bytes = data(image);
      const whole = inspectBytes(bytes);
      fc.assert(
        fc.property(chunkings, (sizes) => {
          const { inspection, peak } = inspectChunked(bytes, sizes);
          expect(inspection).toEqual(whole);
          expect(peak).toBeLessThanOrEqual(INSPECTION_BUDGET);
        }),
        { numRuns: 12 },
      );
    },
  );

  it('inspects a stream while passing it through unchanged', async () => {
    const bytes = data(named('vmdk-stream-footer'));
    const inspector = new FormatInspector();
    const chunks = async function* () {
      for (let offset = 0; offset < bytes.length; offset += 16_384)
        yield bytes.subarray(offset, offset + 16_384);
    };
    const passed: Uint8Array[] = [];
    for await (const chunk of inspecting(chunks(), inspector)) passed.push(chunk);
    expect(Buffer.concat(passed).equals(bytes)).toBe(true);
    expect(inspector.finish()).toEqual(inspectBytes(bytes));
  });
});
