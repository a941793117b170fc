/**
 * Property tests of the inspector on hostile input (fast-check): random bytes, format signatures
 * followed by random bytes, truncated real images and real headers with fields overwritten by
 * extreme values. Whatever the input and however it is chunked, the inspector
 * - never throws and always finishes (each probe takes a bounded number of steps),
 * - gives the same answer for every chunking,
 * - never holds more than INSPECTION_BUDGET bytes, and nothing once finished,
 * - reports virtual sizes that are exact integers, or none;
 * and the decision on its answer never throws and explains refusals in printable ASCII.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideImageData } from '#shared/image-format/decision';
import {
  FormatInspector,
  INSPECTED_FORMATS,
  INSPECTION_BUDGET,
  inspectBytes,
} from '#shared/image-format/inspector';
import { DISK_FORMATS } from '#shared/images/model';
import { chunked, chunkings } from '#test/helpers/chunks';
import { imageCorpus, readImage } from '#test/helpers/image-corpus';

const corpus = await Promise.all(
  (await imageCorpus()).map(async (image) => ({ name: image.name, bytes: await readImage(image) })),
);

const DECLARED = [...new Set<string>([...DISK_FORMATS, ...INSPECTED_FORMATS])];

const holdsForAnyChunking = (bytes: Uint8Array, sizes: readonly number[]) => {
  const inspector = new FormatInspector();
  for (const chunk of chunked(bytes, sizes)) inspector.update(chunk);
  const inspection = inspector.finish();
  expect(inspection).toEqual(inspectBytes(bytes));
  expect(inspection.size).toBe(bytes.length);
  expect(inspector.peakRetainedBytes).toBeLessThanOrEqual(INSPECTION_BUDGET);
  expect(inspector.retainedBytes).toBe(0);
  for (const match of inspection.matches) {
    if (match.virtualSize !== null) {
      expect(Number.isSafeInteger(match.virtualSize) && match.virtualSize >= 0).toBe(true);
    }
    for (const failure of match.failures) expect(failure.reason).toMatch(/^[\x20-\x7e]+$/);
  }
  for (const disk_format of DECLARED) {
    const verdict = decideImageData({ disk_format, container_format: 'bare' }, inspection);
    if (!verdict.accept) expect(verdict.reason).toMatch(/^[\x20-\x7e]+$/);
  }
};

/** Where each format looks first: its signature at its offset. */
const SIGNATURES: readonly (readonly [string, number, readonly number[]])[] = [
  ['qcow2', 0, [0x51, 0x46, 0x49, 0xfb]],
  ['qed', 0, [0x51, 0x45, 0x44, 0x00]],
  ['vmdk', 0, [0x4b, 0x44, 0x4d, 0x56]],
  ['vmdk descriptor', 0, Array.from(Buffer.from('version=1\ncreateType="'))],
  ['vhd', 0, Array.from(Buffer.from('conectix'))],
  ['vhdx', 0, Array.from(Buffer.from('vhdxfile'))],
  ['vdi', 0x40, [0x7f, 0x10, 0xda, 0xbe]],
  ['luks', 0, [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]],
  ['mbr', 510, [0x55, 0xaa]],
  ['iso', 32 * 1024 + 1, Array.from(Buffer.from('CD001'))],
];

/** Values that break naive parsers: zero, sign bits, 2^32 and 2^53 boundaries, all ones. */
const EXTREMES = [
  0n,
  1n,
  0x7fff_ffffn,
  0xffff_ffffn,
  1n << 32n,
  1n << 53n,
  (1n << 53n) + 1n,
  1n << 63n,
  (1n << 64n) - 1n,
];

/** Header areas worth overwriting: the first sectors, VHDX's region table, ISO's descriptor, the end. */
const AREAS = ['start', 'region-table', 'iso', 'end'] as const;
const patch = fc.record({
  area: fc.constantFrom(...AREAS),
  offset: fc.nat(1535),
  width: fc.constantFrom(1, 2, 4, 8),
  value: fc.oneof(fc.constantFrom(...EXTREMES), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
  littleEndian: fc.boolean(),
});

type Patch = typeof patch extends fc.Arbitrary<infer T> ? T : never;

/** Writes `p.value` (truncated to `p.width` bytes) into `bytes`, when it fits. */
const applyPatch = (bytes: Buffer, p: Patch) => {
  const base = {
    start: 0,
    'region-table': 192 * 1024,
    iso: 32 * 1024,
    end: Math.max(bytes.length - 1536, 0),
  }[p.area];
  const at = base + p.offset;
  if (at + p.width > bytes.length) return;
  const value = p.value & ((1n << BigInt(8 * p.width)) - 1n);
  for (let i = 0; i < p.width; i++) {
    const byte = Number((value >> BigInt(8 * i)) & 0xffn);
    bytes[p.littleEndian ? at + i : at + p.width - 1 - i] = byte;
  }
};

/** The part of a corpus image the probes can reach (VHDX metadata sits at 3 MiB). */
const HEAD_LIMIT = 3.5 * 1024 * 1024;

describe('the inspector on hostile input', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6000 }), chunkings, (bytes, sizes) =>
        holdsForAnyChunking(bytes, sizes),
      ),
      { numRuns: 400 },
    );
  });

  it('a format signature followed by random bytes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SIGNATURES),
        fc.uint8Array({ maxLength: 36_000 }),
        chunkings,
        ([, offset, signature], random, sizes) => {
          const bytes = Buffer.alloc(Math.max(random.length, offset + signature.length));
          bytes.set(random);
          bytes.set(signature, offset);
          holdsForAnyChunking(bytes, sizes);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('real images cut short anywhere', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus),
        fc.double({ min: 0, max: 1, noNaN: true }),
        chunkings,
        (image, at, sizes) => {
          const reach = Math.min(image.bytes.length, HEAD_LIMIT);
          holdsForAnyChunking(image.bytes.subarray(0, Math.floor(at * reach)), sizes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('real headers with fields overwritten by extreme values', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus),
        fc.array(patch, { minLength: 1, maxLength: 8 }),
        chunkings,
        (image, patches, sizes) => {
          const bytes = Buffer.from(image.bytes.subarray(0, Math.min(image.bytes.length, HEAD_LIMIT)));
          for (const p of patches) applyPatch(bytes, p);
          holdsForAnyChunking(bytes, sizes);
        },
      ),
      { numRuns: 300 },
    );
  });
});
