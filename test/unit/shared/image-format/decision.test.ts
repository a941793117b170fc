/**
 * The decision alone, on hand-made inspections: Glance 2025.1's rules (glance/location.py,
 * `set_data`) and the `[image_format]` options. corpus.test.ts runs the same rules on real images.
 */
import { describe, expect, it } from 'vitest';
import {
  type DataVerdict,
  DEFAULT_IMAGE_FORMAT_POLICY,
  decideImageData,
  type ImageFormatPolicy,
} from '#shared/image-format/decision';
import type { FormatMatch, Inspection, SignatureFormat } from '#shared/image-format/inspector';

const match = (
  format: SignatureFormat,
  virtualSize: number | null = 4096,
  checks: string[] = [],
  createType?: string,
): FormatMatch => ({
  format,
  virtualSize,
  failures: checks.map((check) => ({ check, reason: `it fails ${check}` })),
  ...(createType === undefined ? {} : { createType }),
});
const found = (...matches: FormatMatch[]): Inspection => ({ size: 1000, matches });
const bare = (disk_format: string | null) => ({ disk_format, container_format: 'bare' });
const policy = (changes: Partial<ImageFormatPolicy> = {}): ImageFormatPolicy => ({
  ...DEFAULT_IMAGE_FORMAT_POLICY,
  ...changes,
});

const accepted = (virtual_size: number | null, detected: string | null) =>
  expect.objectContaining({ accept: true, virtual_size, detected });
const refused = (reason: RegExp) =>
  expect.objectContaining({ accept: false, reason: expect.stringMatching(reason) });

describe('decideImageData', () => {
  it.each<[string, { disk_format: string | null; container_format: string | null }, Inspection, DataVerdict]>(
    [
      [
        'ovf container: not inspected',
        { disk_format: 'qcow2', container_format: 'ovf' },
        found(match('vmdk')),
        {
          accept: true,
          virtual_size: null,
          detected: null,
          warnings: [],
        },
      ],
      [
        'no container: not inspected',
        { disk_format: 'raw', container_format: null },
        found(match('qcow2', 1, ['backing_file'])),
        {
          accept: true,
          virtual_size: null,
          detected: null,
          warnings: [],
        },
      ],
    ],
  )('%s', (_, image, inspection, expected) => {
    expect(decideImageData(image, inspection)).toEqual(expected);
  });

  it.each<[string, string | null, Inspection, unknown]>([
    ['raw declared, nothing recognised: the byte size', 'raw', found(), accepted(1000, 'raw')],
    [
      'raw declared, no data: no virtual size (Glance sets none for 0)',
      'raw',
      { size: 0, matches: [] },
      accepted(null, 'raw'),
    ],
    ['qcow2 declared and found', 'qcow2', found(match('qcow2', 1 << 30)), accepted(1 << 30, 'qcow2')],
    ['qcow2 of virtual size 0', 'qcow2', found(match('qcow2', 0)), accepted(null, 'qcow2')],
    ['qcow2 of unknown virtual size', 'qcow2', found(match('qcow2', null)), accepted(null, 'qcow2')],
    [
      'raw declared, qcow2 found: the byte size',
      'raw',
      found(match('qcow2', 1 << 30)),
      accepted(1000, 'qcow2'),
    ],
    ['ami declared, nothing recognised', 'ami', found(), accepted(null, 'raw')],
    ['ploop declared, nothing recognised', 'ploop', found(), accepted(null, 'raw')],
    ['no disk_format, nothing recognised', null, found(), accepted(null, 'raw')],
    [
      'ami declared, qcow2 found',
      'ami',
      found(match('qcow2')),
      refused(/^Image disk_format 'ami' does not match the data, which is qcow2\.$/),
    ],
    [
      'no disk_format, vhd found',
      null,
      found(match('vhd')),
      refused(/disk_format 'null' does not match the data, which is vhd/),
    ],
    [
      'qcow2 declared, nothing recognised',
      'qcow2',
      found(),
      refused(/which carries no known disk format header \(raw\)/),
    ],
    [
      'iso declared, iso + gpt found: an ISO',
      'iso',
      found(match('iso', 1000), match('gpt', 1000, ['mbr'])),
      accepted(1000, 'iso'),
    ],
    [
      'raw declared, iso + gpt found',
      'raw',
      found(match('iso', 1000), match('gpt', 1000)),
      accepted(1000, 'iso'),
    ],
    [
      'gpt declared, iso + gpt found: it is an ISO',
      'gpt',
      found(match('iso'), match('gpt')),
      refused(/which is iso/),
    ],
    [
      'qcow2 declared, qcow2 + gpt found',
      'qcow2',
      found(match('qcow2'), match('gpt')),
      refused(/^Image data matches more than one disk format \(qcow2, gpt\)/),
    ],
    [
      'raw declared, vmdk + iso found',
      'raw',
      found(match('vmdk', 1, [], 'monolithicSparse'), match('iso')),
      refused(/ambiguous/),
    ],
    ['iso + gpt + vhd found', 'iso', found(match('vhd'), match('iso'), match('gpt')), refused(/ambiguous/)],
    [
      'qcow2 with a backing file',
      'qcow2',
      found(match('qcow2', 1, ['backing_file'])),
      refused(/^Image data is qcow2 and fails its safety checks: it fails backing_file\.$/),
    ],
    [
      'raw declared, qcow2 with a backing file: still checked',
      'raw',
      found(match('qcow2', 1, ['backing_file'])),
      refused(/is qcow2 and fails/),
    ],
    [
      'two failures named together',
      'qcow2',
      found(match('qcow2', 1, ['backing_file', 'data_file'])),
      refused(/it fails backing_file; it fails data_file\./),
    ],
    ['qed declared and found', 'qed', found(match('qed', 1, ['banned'])), refused(/is qed and fails/)],
    ['vmdk streamOptimized', 'vmdk', found(match('vmdk', 8, [], 'streamOptimized')), accepted(8, 'vmdk')],
    [
      'vmdk create type in another case',
      'vmdk',
      found(match('vmdk', 8, [], 'MONOLITHICSPARSE')),
      accepted(8, 'vmdk'),
    ],
    [
      'vmdk monolithicFlat',
      'vmdk',
      found(match('vmdk', 8, [], 'monolithicFlat')),
      refused(/create type "monolithicFlat" is not allowed \(allowed: streamOptimized, monolithicSparse\)/),
    ],
    [
      'raw declared, vmdk twoGbMaxExtentSparse',
      'raw',
      found(match('vmdk', 8, [], 'twoGbMaxExtentSparse')),
      refused(/not allowed/),
    ],
    ['gpt with a bad MBR', 'gpt', found(match('gpt', 1000, ['mbr'])), refused(/is gpt and fails/)],
  ])('%s', (_, disk_format, inspection, expected) => {
    expect(decideImageData(bare(disk_format), inspection)).toEqual(expected);
  });

  it('warns when raw data turns out to be a disk format', () => {
    const verdict = decideImageData(bare('raw'), found(match('vhdx')));
    expect(verdict).toEqual({
      accept: true,
      virtual_size: 1000,
      detected: 'vhdx',
      warnings: ['Image data declared raw is vhdx; accepted as raw.'],
    });
  });
  it('quotes a hostile create type in printable ASCII', () => {
    const verdict = decideImageData(bare('vmdk'), found(match('vmdk', 8, [], '\u001b[31mred\u0000')));
    expect(verdict).toEqual(refused(/create type "\?\[31mred\?" is not allowed/));
    if (!verdict.accept) expect(verdict.reason).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('[image_format] options', () => {
  it('vmdk_allowed_types: empty refuses every VMDK', () => {
    expect(
      decideImageData(
        bare('vmdk'),
        found(match('vmdk', 8, [], 'streamOptimized')),
        policy({ vmdkAllowedTypes: [] }),
      ),
    ).toEqual(refused(/allowed: none/));
  });

  it('gpt_safety_checks_nonfatal: only the listed checks, only for gpt', () => {
    const lenient = policy({ gptSafetyChecksNonfatal: ['mbr'] });
    expect(decideImageData(bare('gpt'), found(match('gpt', 1000, ['mbr'])), lenient)).toEqual({
      accept: true,
      virtual_size: 1000,
      detected: 'gpt',
      warnings: ['Image data (gpt): it fails mbr (non-fatal).'],
    });
    expect(decideImageData(bare('gpt'), found(match('gpt', 1000, ['mbr', 'other'])), lenient)).toEqual(
      refused(/fails mbr; it fails other/),
    );
    expect(decideImageData(bare('qcow2'), found(match('qcow2', 1, ['mbr'])), lenient)).toEqual(
      refused(/is qcow2 and fails/),
    );
  });

  describe('require_image_format_match off', () => {
    const loose = policy({ requireImageFormatMatch: false });

    it('a mismatch is accepted with a warning and no virtual size', () => {
      expect(decideImageData(bare('vhd'), found(match('qcow2', 5)), loose)).toEqual({
        accept: true,
        virtual_size: null,
        detected: 'qcow2',
        warnings: ["Image disk_format 'vhd' does not match the data, which is qcow2."],
      });
    });

    it('ambiguous data is accepted with a warning when every format passes its checks', () => {
      expect(decideImageData(bare('qcow2'), found(match('qcow2'), match('gpt')), loose)).toEqual({
        accept: true,
        virtual_size: null,
        detected: null,
        warnings: [
          'Image data matches more than one disk format (qcow2, gpt), so its real format is ambiguous.',
        ],
      });
    });

    it('the safety checks of what was found still refuse', () => {
      expect(decideImageData(bare('vhd'), found(match('qcow2', 5, ['backing_file'])), loose)).toEqual(
        refused(/qcow2 and fails/),
      );
      expect(decideImageData(bare('qcow2'), found(match('qcow2'), match('gpt', 1, ['mbr'])), loose)).toEqual(
        refused(/gpt and fails/),
      );
    });
  });
});
