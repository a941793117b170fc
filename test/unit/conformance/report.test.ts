import { describe, expect, it } from 'vitest';
import {
  compare,
  normalizeId,
  type Outcome,
  parseExclusions,
  parseSubunitCsv,
  parseTestList,
} from '#conformance/report';

const A = 'tempest.api.image.v2.test_images.BasicOperationsImagesTest.test_delete_image';
const B = 'tempest.api.image.v2.test_images_member.ImagesMemberTest.test_image_share_accept';
const C = 'tempest.api.image.v2.test_images.ImageLocationsTest.test_set_location';
const D = 'tempest.api.image.v2.test_versions.VersionsTest.test_list_versions';

describe('reading results', () => {
  it('drops tempest attributes from ids', () => {
    expect(normalizeId(`${A}[id-abc,smoke]`)).toBe(A);
    expect(parseTestList(`# header\n${A}[id-1]\n\n${B}  # note\n`)).toEqual([A, B]);
  });

  it('reads subunit2csv rows, quoted ids with commas included', () => {
    const csv = [
      'test,status,start_time,stop_time',
      `"${A}[id-1,smoke]",success,t0,t1`,
      `${B}[id-2],failure,t0,t1`,
      'setUpClass (tempest.api.image.v2.test_images.ImageLocationsTest),skip,t0,t1',
      '',
    ].join('\n');
    expect([...parseSubunitCsv(csv)]).toEqual([
      [A, 'pass'],
      [B, 'fail'],
      ['setUpClass (tempest.api.image.v2.test_images.ImageLocationsTest)', 'skip'],
    ]);
  });
});

describe('exclusions', () => {
  it('needs an issue on every entry', () => {
    expect(parseExclusions('# comment\ntempest.x.  # issue 8: members\ntempest.y*  # issue 11\n')).toEqual([
      { prefix: 'tempest.x.', issue: 8, reason: 'members' },
      { prefix: 'tempest.y*', issue: 11, reason: '' },
    ]);
    expect(() => parseExclusions('tempest.x.  # members, someday')).toThrow(/issue <n>/);
  });
});

describe('compare', () => {
  const exclusions = parseExclusions(
    'tempest.api.image.v2.test_images_member.  # issue 8: members\ntempest.api.image.v2.test_images.ImageLocations*  # issue 13: locations',
  );

  it.each<[string, Map<string, Outcome>, string, string]>([
    ['a pass', new Map([[A, 'pass']]), 'pass', 'ok'],
    ['a failure', new Map([[A, 'fail']]), 'fail', 'regression'],
    ['a skip', new Map([[A, 'skip']]), 'skip', 'regression'],
    ['a test that never ran', new Map(), 'not run', 'regression'],
    [
      'a class whose set-up failed',
      new Map([['setUpClass (tempest.api.image.v2.test_images.BasicOperationsImagesTest)', 'fail']]),
      'fail',
      'regression',
    ],
  ])('counts %s of a test Glance passes', (_, results, here, verdict) => {
    expect(compare([A], results, exclusions).rows).toEqual([{ id: A, here, verdict, exclusion: undefined }]);
  });

  it('excuses excluded tests, by module or by wildcard, and reports those that pass now', () => {
    const results = new Map<string, Outcome>([
      [B, 'fail'],
      [C, 'pass'],
      [D, 'pass'],
    ]);
    const { rows, stale, extraPasses } = compare([B, C], results, exclusions);
    expect(rows.map((row) => [row.verdict, row.exclusion?.issue])).toEqual([
      ['excluded', 8],
      ['ok', 13],
    ]);
    expect(stale.map((row) => row.id)).toEqual([C]);
    expect(extraPasses).toEqual([D]);
  });
});
