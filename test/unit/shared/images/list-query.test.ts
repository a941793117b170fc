import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequest } from '#shared/errors';
import { matchesFilters, splitInList } from '#shared/images/list-query/filters';
import { parseIsoTime } from '#shared/images/list-query/iso-time';
import { firstQuery, nextQuery, pageLinks } from '#shared/images/list-query/links';
import { type ListImagesQuery, parseListImagesQuery } from '#shared/images/list-query/parse';
import { inListScope, MEMBER_STATUS_FILTERS, wantsMembership } from '#shared/images/list-query/scope';
import { compareImages, type SortSpec } from '#shared/images/list-query/sort';
import type { ImageRecord } from '#shared/images/model';
import { queuedImage } from '#test/helpers/images';

const ID_A = '11111111-1111-4111-8111-111111111111';
const ID_B = '22222222-2222-4222-8222-222222222222';

const parse = (qs: string) => parseListImagesQuery(qs);

/** The 400 a call throws, for assertions on its message. */
const badRequest = (fn: () => unknown): BadRequest => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequest);
    expect((error as BadRequest).status).toBe(400);
    return error as BadRequest;
  }
  throw new Error('expected a BadRequest');
};

const image = (overrides: Partial<ImageRecord> = {}): ImageRecord =>
  queuedImage({
    id: ID_A,
    created_at: '2026-03-01T10:00:00.250Z',
    updated_at: '2026-03-02T10:00:00.000Z',
    ...overrides,
  });

describe('parseListImagesQuery: defaults', () => {
  it('gives Glance defaults for an empty query', () => {
    expect(parse('')).toEqual({
      limit: 25,
      sort: [
        { key: 'created_at', dir: 'desc' },
        { key: 'id', dir: 'desc' },
      ],
      memberStatus: 'accepted',
      filters: { tags: [], os_hidden: false, properties: {} },
    });
  });

  it('accepts a URLSearchParams or a raw query string alike', () => {
    const qs = 'limit=3&tag=a&tag=b&name=in:x,y&sort=name:asc';
    expect(parseListImagesQuery(new URLSearchParams(qs))).toEqual(parse(qs));
  });

  it('decodes form encoding (+ is a space, %XX escapes)', () => {
    expect(parse('name=my+image&os_distro=a%2Cb').filters).toMatchObject({
      name: { op: 'eq', value: 'my image' },
      properties: { os_distro: 'a,b' },
    });
  });
});

describe('limit', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['25', 25],
    [' 7 ', 7],
    ['+3', 3],
    ['-0', 0],
    ['1000', 1000],
    ['1001', 1000],
    ['99999999999999999999', 1000],
  ])('limit=%j → %d', (raw, limit) => {
    expect(parseListImagesQuery(new URLSearchParams({ limit: raw })).limit).toBe(limit);
  });

  it.each([
    ['abc', 'limit param must be an integer'],
    ['1.5', 'limit param must be an integer'],
    ['', 'limit param must be an integer'],
    ['1e3', 'limit param must be an integer'],
    ['0x10', 'limit param must be an integer'],
    ['-1', 'limit param must be positive'],
    ['-25', 'limit param must be positive'],
  ])('limit=%j → 400 %s', (raw, message) => {
    expect(badRequest(() => parseListImagesQuery(new URLSearchParams({ limit: raw }))).message).toBe(message);
  });

  it('uses the first occurrence, like Glance popping it', () => {
    expect(parse('limit=2&limit=x').limit).toBe(2);
  });

  it('honours configured default and maximum', () => {
    expect(parseListImagesQuery('', { defaultLimit: 10 }).limit).toBe(10);
    expect(parseListImagesQuery('limit=80', { maxLimit: 50 }).limit).toBe(50);
    expect(parseListImagesQuery('', { defaultLimit: 100, maxLimit: 50 }).limit).toBe(50);
  });
});

describe('marker', () => {
  it.each([ID_A, ID_A.toUpperCase()])('accepts %s', (marker) => {
    expect(parse(`marker=${marker}`).marker).toBe(marker);
  });

  it.each(['', 'abc', `${ID_A}0`, ID_A.replace(/-/g, ''), 'not-an-id'])('marker=%j → 400', (marker) => {
    expect(badRequest(() => parseListImagesQuery(new URLSearchParams({ marker }))).message).toContain(
      'Invalid marker',
    );
  });
});

describe('sorting', () => {
  const spec = (...pairs: string[]): SortSpec[] =>
    pairs.map((p) => {
      const [key, dir] = p.split(':');
      return { key, dir } as SortSpec;
    });

  it.each([
    ['', spec('created_at:desc', 'id:desc')],
    ['sort_key=name', spec('name:desc', 'created_at:desc', 'id:desc')],
    ['sort_dir=asc', spec('created_at:asc', 'id:asc')],
    ['sort_key=name&sort_dir=asc', spec('name:asc', 'created_at:asc', 'id:asc')],
    ['sort_key=name&sort_key=size&sort_dir=asc', spec('name:asc', 'size:asc', 'created_at:asc', 'id:asc')],
    [
      'sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc',
      spec('name:asc', 'size:desc', 'created_at:desc', 'id:desc'),
    ],
    ['sort_key=id&sort_dir=asc', spec('id:asc', 'created_at:asc')],
    ['sort_key=created_at&sort_dir=asc', spec('created_at:asc', 'id:asc')],
    ['sort_key=%20status%20', spec('status:desc', 'created_at:desc', 'id:desc')],
    ['sort=name', spec('name:desc', 'created_at:desc', 'id:desc')],
    ['sort=name:asc', spec('name:asc', 'created_at:asc', 'id:asc')],
    ['sort=name:asc,size', spec('name:asc', 'size:desc', 'created_at:desc', 'id:desc')],
    ['sort=name:', spec('name:desc', 'created_at:desc', 'id:desc')],
    [
      'sort=disk_format:asc,container_format:asc',
      spec('disk_format:asc', 'container_format:asc', 'created_at:desc', 'id:desc'),
    ],
    ['sort=updated_at:asc,id:asc', spec('updated_at:asc', 'id:asc', 'created_at:desc')],
    ['sort=name:asc&sort=size:asc', spec('name:asc', 'size:asc', 'created_at:desc', 'id:desc')],
  ])('%j → %j', (qs, expected) => {
    expect(parse(qs).sort).toEqual(expected);
  });

  it.each([
    ['sort=name&sort_key=size', 'Old and new sorting syntax cannot be combined'],
    ['sort=name&sort_dir=asc', 'Old and new sorting syntax cannot be combined'],
    ['sort_key=owner', 'Invalid sort key: owner. It must be one of the following: name, status,'],
    ['sort_key=', 'Invalid sort key: .'],
    ['sort=tags:asc', 'Invalid sort key: tags.'],
    ['sort=:asc', 'Invalid sort key: .'],
    ['sort=', 'Invalid sort key: .'],
    ['sort=name,,size', 'Invalid sort key: .'],
    ['sort_dir=up', 'Invalid sort direction: up'],
    ['sort=name:up', 'Invalid sort direction: up'],
    ['sort=name:asc:x', 'Invalid sort direction: asc:x'],
    [
      'sort_key=name&sort_dir=asc&sort_dir=desc',
      'Number of sort dirs does not match the number of sort keys',
    ],
    ['sort_dir=asc&sort_dir=desc', 'Number of sort dirs does not match the number of sort keys'],
    [
      'sort_key=name&sort_key=size&sort_key=id&sort_dir=asc&sort_dir=desc',
      'Number of sort dirs does not match the number of sort keys',
    ],
  ])('%j → 400', (qs, message) => {
    expect(badRequest(() => parse(qs)).message).toContain(message);
  });
});

describe('name / status / id / container_format / disk_format filters', () => {
  it.each([
    ['name=cirros', 'name', { op: 'eq', value: 'cirros' }],
    ['name=eq:cirros', 'name', { op: 'eq', value: 'cirros' }],
    ['name=eq:a:b', 'name', { op: 'eq', value: 'a:b' }],
    ['name=', 'name', { op: 'eq', value: '' }],
    ['name=in:a,b', 'name', { op: 'in', values: ['a', 'b'] }],
    ['name=in:"a,b",c', 'name', { op: 'in', values: ['a,b', 'c'] }],
    ['name=in:', 'name', { op: 'in', values: [] }],
    ['name=2026-01-01T10:00:00Z', 'name', { op: 'eq', value: '2026-01-01T10:00:00Z' }],
    ['status=active', 'status', { op: 'eq', value: 'active' }],
    ['status=in:active,queued,killed', 'status', { op: 'in', values: ['active', 'queued', 'killed'] }],
    ['status=eq:pending_delete', 'status', { op: 'eq', value: 'pending_delete' }],
    [`id=in:${ID_A},${ID_B}`, 'id', { op: 'in', values: [ID_A, ID_B] }],
    ['container_format=bare', 'container_format', { op: 'eq', value: 'bare' }],
    ['disk_format=in:raw,qcow2', 'disk_format', { op: 'in', values: ['raw', 'qcow2'] }],
    ['name=a&name=b', 'name', { op: 'eq', value: 'b' }],
  ])('%j', (qs, key, filter) => {
    expect((parse(qs).filters as unknown as Record<string, unknown>)[key]).toEqual(filter);
  });

  it.each([
    ['name=gt:a', "Unable to filter 'name' by unknown operator 'gt'"],
    ['name=a:b', "Unable to filter 'name' by unknown operator 'a'"],
    ['disk_format=neq:raw', "Unable to filter 'disk_format' by unknown operator 'neq'"],
    ['id=IN:x', "unknown operator 'IN'"],
    ['name=in:"a,b', 'The quote is not closed.'],
    ['name=in:a"b",c', 'There is no comma before opening quotation mark.'],
    ['name=in:"a"b,c', 'There is no comma after closing quotation mark.'],
    ['status=gone', 'Invalid status value: gone.'],
    ['status=ACTIVE', 'Invalid status value: ACTIVE.'],
    ['status=in:active,nope', 'Invalid status value: nope.'],
    ['status=', 'Invalid status value: .'],
  ])('%j → 400', (qs, message) => {
    expect(badRequest(() => parse(qs)).message).toContain(message);
  });
});

describe('splitInList (Glance split_filter_value_for_quotes)', () => {
  it.each([
    ['a,b,c', ['a', 'b', 'c']],
    ['a', ['a']],
    ['', []],
    ['a,', ['a']],
    ['a,,b', ['a', '', 'b']],
    [',a', ['', 'a']],
    ['"a,b"', ['a,b']],
    ['"a,b",c', ['a,b', 'c']],
    ['c,"a,b"', ['c', 'a,b']],
    ['"",x', ['', 'x']],
    ['"a\\"b",c', ['a\\"b', 'c']],
    ['a b,c d', ['a b', 'c d']],
  ])('%j → %j', (value, expected) => {
    expect(splitInList('name', value)).toEqual(expected);
  });

  it.each(['"a', 'a"', 'x"a",b', '"a"x,b', '"a","b'])('%j → 400', (value) => {
    badRequest(() => splitInList('name', value));
  });

  it('round-trips any list of values quoted Glance-style (property test)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string().filter((s) => !s.includes('"') && !s.includes('\\')),
          { minLength: 1 },
        ),
        (values) => {
          const encoded = values.map((v) => `"${v}"`).join(',');
          expect(splitInList('name', encoded)).toEqual(values);
        },
      ),
    );
  });
});

describe('parseIsoTime (iso8601 grammar)', () => {
  it.each([
    ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.000Z'],
    ['2026-03-01T10:00:00', '2026-03-01T10:00:00.000Z'],
    ['2026-03-01 10:00:00Z', '2026-03-01T10:00:00.000Z'],
    ['2026-03-01T10:00:00.5Z', '2026-03-01T10:00:00.500Z'],
    ['2026-03-01T10:00:00,123456Z', '2026-03-01T10:00:00.123Z'],
    ['2026-03-01T10:00:00+02:00', '2026-03-01T08:00:00.000Z'],
    ['2026-03-01T10:00:00-0130', '2026-03-01T11:30:00.000Z'],
    ['2026-03-01T10:00:00+02', '2026-03-01T08:00:00.000Z'],
    ['2026-03-01T10:00', '2026-03-01T10:00:00.000Z'],
    ['2026-03-01T10', '2026-03-01T10:00:00.000Z'],
    ['2026-03-01', '2026-03-01T00:00:00.000Z'],
    ['2026-3-1', '2026-03-01T00:00:00.000Z'],
    ['20260301', '2026-03-01T00:00:00.000Z'],
    ['20260301T101112Z', '2026-03-01T10:11:12.000Z'],
    ['2026-03', '2026-03-01T00:00:00.000Z'],
    ['2026', '2026-01-01T00:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ])('%s → %s', (text, iso) => {
    expect(new Date(parseIsoTime(text) as number).toISOString()).toBe(iso);
  });

  it.each([
    '',
    'yesterday',
    '202603',
    '2026-13-01',
    '2026-02-29',
    '2026-04-31',
    '2026-03-01T24:00:00Z',
    '2026-03-01T10:60:00Z',
    '2026-03-01T10:00:60Z',
    '2026-03-01T10:00:00+25:00',
    '2026-03-01T10:00:00 Z',
    '0000-01-01',
    'gt:2026-03-01',
    '2026-03-01X',
  ])('%j is not a timestamp', (text) => {
    expect(parseIsoTime(text)).toBeUndefined();
  });
});

describe('created_at / updated_at filters', () => {
  const at = (iso: string) => Date.parse(iso);

  it.each([
    ['created_at=2026-03-01T10:00:00Z', 'created_at', { op: 'eq', at: at('2026-03-01T10:00:00Z') }],
    ['created_at=2026-03-01', 'created_at', { op: 'eq', at: at('2026-03-01T00:00:00Z') }],
    ['created_at=gt:2026-03-01T10:00:00Z', 'created_at', { op: 'gt', at: at('2026-03-01T10:00:00Z') }],
    ['created_at=gte:2026-03-01T10:00:00Z', 'created_at', { op: 'gte', at: at('2026-03-01T10:00:00Z') }],
    ['updated_at=lt:2026-03-01T10:00:00%2B01:00', 'updated_at', { op: 'lt', at: at('2026-03-01T09:00:00Z') }],
    ['updated_at=lte:2026-03-01', 'updated_at', { op: 'lte', at: at('2026-03-01T00:00:00Z') }],
    ['updated_at=eq:2026-03-01T10:00:00Z', 'updated_at', { op: 'eq', at: at('2026-03-01T10:00:00Z') }],
    ['updated_at=neq:2026-03-01T10:00:00Z', 'updated_at', { op: 'neq', at: at('2026-03-01T10:00:00Z') }],
  ])('%j', (qs, key, filter) => {
    expect((parse(qs).filters as unknown as Record<string, unknown>)[key]).toEqual(filter);
  });

  it.each([
    ['created_at=yesterday', 'Bad "created_at" query filter format. Use ISO 8601 DateTime notation.'],
    ['created_at=gt:yesterday', 'Bad "created_at" query filter format.'],
    ['updated_at=gt:', 'Bad "updated_at" query filter format.'],
    ['updated_at=', 'Bad "updated_at" query filter format.'],
    ['created_at=2026-02-30', 'Bad "created_at" query filter format.'],
    ['created_at=after:2026-03-01T10:00:00Z', "Unable to filter 'created_at' on unknown operator 'after'"],
    ['created_at=in:2026-03-01T10:00:00Z', "unknown operator 'in'"],
    ['updated_at=GT:2026-03-01', "unknown operator 'GT'"],
  ])('%j → 400', (qs, message) => {
    expect(badRequest(() => parse(qs)).message).toContain(message);
  });
});

describe('visibility, member_status, booleans, ranges and other filters', () => {
  it.each(['public', 'private', 'shared', 'community', 'all'])('visibility=%s', (visibility) => {
    expect(parse(`visibility=${visibility}`).visibility).toBe(visibility);
  });

  it.each(['', 'everyone', 'Public', 'in:public,private'])('visibility=%j → 400', (visibility) => {
    expect(badRequest(() => parseListImagesQuery(new URLSearchParams({ visibility }))).message).toContain(
      'Invalid visibility value',
    );
  });

  it.each(['pending', 'accepted', 'rejected', 'all'])('member_status=%s', (status) => {
    expect(parse(`member_status=${status}`).memberStatus).toBe(status);
  });

  it.each(['', 'ACCEPTED', 'denied'])('member_status=%j → 400', (status) => {
    expect(
      badRequest(() => parseListImagesQuery(new URLSearchParams({ member_status: status }))).message,
    ).toContain('Invalid status');
  });

  it.each([
    ['os_hidden=true', true],
    ['os_hidden=false', false],
    ['os_hidden=True', true],
    ['os_hidden=FALSE', false],
  ])('%j → os_hidden %s (Glance lower-cases it)', (qs, value) => {
    expect(parse(qs).filters.os_hidden).toBe(value);
  });

  it.each(['os_hidden=yes', 'os_hidden=1', 'os_hidden=', 'protected=True', 'protected=1', 'protected='])(
    '%j → 400',
    (qs) => {
      expect(badRequest(() => parse(qs)).message).toMatch(
        /Invalid value '.*' for '(os_hidden|protected)' filter/,
      );
    },
  );

  it.each([
    ['protected=true', true],
    ['protected=false', false],
  ])('%j', (qs, value) => {
    expect(parse(qs).filters.protected).toBe(value);
  });

  it.each([
    ['size_min=0', { size_min: 0 }],
    ['size_max=1024', { size_max: 1024 }],
    ['size_min=10&size_max=20', { size_min: 10, size_max: 20 }],
    ['min_ram=512', { min_ram: 512 }],
    ['min_disk=-1', { min_disk: -1 }],
    ['size=42', { size: 42 }],
    ['virtual_size=42', { virtual_size: 42 }],
    ['owner=p-alpha', { owner: 'p-alpha' }],
    ['checksum=abc', { checksum: 'abc' }],
    ['os_hash_value=def', { os_hash_value: 'def' }],
    ['os_hash_algo=sha512', { os_hash_algo: 'sha512' }],
    ['tag=a&tag=%20b%20', { tags: ['a', 'b'] }],
    ['os_distro=ubuntu&hw_disk_bus=virtio', { properties: { os_distro: 'ubuntu', hw_disk_bus: 'virtio' } }],
    ['os_distro=a&os_distro=b', { properties: { os_distro: 'b' } }],
    ['deleted=true', { properties: {} }],
    ['page_size=5', { properties: { page_size: '5' } }],
  ])('%j', (qs, filters) => {
    expect(parse(qs).filters).toMatchObject(filters);
  });

  it.each([
    ['size_min=abc', 'Unable to filter on a range with a non-numeric value'],
    ['size_max=1.5', 'Unable to filter on a range with a non-numeric value'],
    ['size_min=-1', "'size_min' must be a non-negative integer"],
    ['size_max=', "'size_max' must be a non-negative integer"],
    ['min_ram=lots', "Invalid value 'lots' for 'min_ram' filter"],
    ['min_disk=1.5', "Invalid value '1.5' for 'min_disk' filter"],
    ['size=big', "Invalid value 'big' for 'size' filter"],
    ['changes-since=2026-01-01T00:00:00Z', 'The "changes-since" filter is no longer available on v2.'],
    ['changes-since=', 'The "changes-since" filter is no longer available on v2.'],
  ])('%j → 400', (qs, message) => {
    expect(badRequest(() => parse(qs)).message).toContain(message);
  });

  it('keeps a parameter literally named __proto__ as an ordinary property filter', () => {
    const filters = parse('__proto__=x').filters;
    expect(Object.hasOwn(filters.properties, '__proto__')).toBe(true);
    expect(matchesFilters(image(), parse('__proto__=x'))).toBe(false);
  });
});

describe('matchesFilters', () => {
  const base = image({
    name: 'Cirros 0.6',
    status: 'active',
    visibility: 'shared',
    owner: 'p-alpha',
    container_format: 'bare',
    disk_format: 'qcow2',
    size: 1000,
    virtual_size: 4000,
    min_ram: 128,
    min_disk: 1,
    checksum: 'c1',
    os_hash_algo: 'sha512',
    os_hash_value: 'h1',
    protected: false,
    os_hidden: false,
    tags: ['x86', 'prod'],
    properties: { os_distro: 'cirros' },
  });

  it.each([
    ['', true],
    ['name=Cirros%200.6', true],
    ['name=cirros%200.6', false],
    ['name=in:a,"Cirros 0.6"', true],
    ['name=in:a,b', false],
    ['status=active', true],
    ['status=queued', false],
    ['status=in:queued,active', true],
    [`id=${ID_A}`, true],
    [`id=${ID_A.toUpperCase()}`, true],
    [`id=in:${ID_B},${ID_A}`, true],
    [`id=${ID_B}`, false],
    ['container_format=bare', true],
    ['container_format=ovf', false],
    ['disk_format=in:raw,qcow2', true],
    ['disk_format=raw', false],
    ['visibility=shared', true],
    ['visibility=all', true],
    ['visibility=public', false],
    ['owner=p-alpha', true],
    ['owner=p-beta', false],
    ['min_ram=128', true],
    ['min_ram=256', false],
    ['min_disk=1', true],
    ['size=1000', true],
    ['virtual_size=4001', false],
    ['checksum=c1', true],
    ['checksum=c2', false],
    ['os_hash_value=h1', true],
    ['os_hash_algo=md5', false],
    ['size_min=1000', true],
    ['size_min=1001', false],
    ['size_max=1000', true],
    ['size_max=999', false],
    ['size_min=0&size_max=5000', true],
    ['tag=x86', true],
    ['tag=x86&tag=prod', true],
    ['tag=x86&tag=arm', false],
    ['os_hidden=false', true],
    ['os_hidden=true', false],
    ['protected=false', true],
    ['protected=true', false],
    ['os_distro=cirros', true],
    ['os_distro=ubuntu', false],
    ['hw_disk_bus=virtio', false],
    ['created_at=2026-03-01T10:00:00Z', true],
    ['created_at=neq:2026-03-01T10:00:00Z', false],
    ['created_at=gt:2026-03-01T10:00:00Z', false],
    ['created_at=gte:2026-03-01T10:00:00Z', true],
    ['created_at=lt:2026-03-01T10:00:01Z', true],
    ['created_at=lte:2026-03-01T09:59:59Z', false],
    ['created_at=gt:2026-03-01T10:00:00.100Z', false],
    ['updated_at=gt:2026-03-01', true],
    ['updated_at=lt:2026-03-01', false],
    ['updated_at=eq:2026-03-02T11:00:00%2B01:00', true],
  ])('%j → %s', (qs, expected) => {
    expect(matchesFilters(base, parse(qs))).toBe(expected);
  });

  it.each([
    ['null name never equals', { name: null }, 'name='],
    ['null size fails size_min', { size: null }, 'size_min=0'],
    ['null size fails size_max', { size: null }, 'size_max=999999'],
    ['null owner never equals', { owner: null }, 'owner='],
    ['null disk_format fails in:', { disk_format: null }, 'disk_format=in:raw,qcow2'],
  ])('%s', (_, overrides, qs) => {
    expect(matchesFilters(image(overrides), parse(qs))).toBe(false);
  });

  it.each([
    ['deleted', false],
    ['pending_delete', false],
    ['killed', true],
    ['queued', true],
    ['deactivated', true],
  ] as const)('status %s is listed: %s (killed is, decision D1)', (status, listed) => {
    expect(matchesFilters(image({ status }), parse(''))).toBe(listed);
  });

  it('hidden images are left out by default and are the only ones with os_hidden=true', () => {
    const hidden = image({ os_hidden: true });
    expect(matchesFilters(hidden, parse(''))).toBe(false);
    expect(matchesFilters(hidden, parse('os_hidden=true'))).toBe(true);
  });

  it('an image always matches a query built from its own values (property test)', () => {
    fc.assert(
      fc.property(
        fc.record({
          name: fc.string({ minLength: 1 }).filter((s) => !s.includes('"') && !s.includes('\\')),
          tags: fc.uniqueArray(
            fc.string({ minLength: 1 }).filter((s) => s.trim() === s),
            { maxLength: 4 },
          ),
          size: fc.nat(),
          min_ram: fc.nat(),
          os_distro: fc.string(),
        }),
        ({ name, tags, size, min_ram, os_distro }) => {
          const record = image({ name, tags, size, min_ram, properties: { os_distro } });
          const params = new URLSearchParams();
          params.set('name', `in:"${name}",other`);
          for (const tag of tags) params.append('tag', tag);
          params.set('size_min', String(size));
          params.set('size_max', String(size));
          params.set('min_ram', String(min_ram));
          params.set('os_distro', os_distro);
          params.set('created_at', 'eq:2026-03-01T10:00:00Z');
          return matchesFilters(record, parseListImagesQuery(params));
        },
      ),
    );
  });
});

describe('inListScope (docs/api.md#visibility)', () => {
  const me = { projectId: 'p-me', isAdmin: false };
  const admin = { projectId: 'p-admin', isAdmin: true };
  const q = (qs = ''): ListImagesQuery => parse(qs);
  type Row = [
    string,
    { owner: string | null; visibility: 'public' | 'community' | 'shared' | 'private' },
    typeof me,
    string,
    'pending' | 'accepted' | 'rejected' | null,
    boolean,
  ];

  it.each<Row>([
    ['own private', { owner: 'p-me', visibility: 'private' }, me, '', null, true],
    ['other private', { owner: 'p-x', visibility: 'private' }, me, '', null, false],
    ['other private even as "member"', { owner: 'p-x', visibility: 'private' }, me, '', 'accepted', false],
    ['public', { owner: 'p-x', visibility: 'public' }, me, '', null, true],
    ['own community', { owner: 'p-me', visibility: 'community' }, me, '', null, true],
    ['other community, default list', { owner: 'p-x', visibility: 'community' }, me, '', null, false],
    [
      'other community, visibility=community',
      { owner: 'p-x', visibility: 'community' },
      me,
      'visibility=community',
      null,
      true,
    ],
    [
      'other community, visibility=all',
      { owner: 'p-x', visibility: 'community' },
      me,
      'visibility=all',
      null,
      true,
    ],
    ['shared, accepted member', { owner: 'p-x', visibility: 'shared' }, me, '', 'accepted', true],
    ['shared, pending member, default', { owner: 'p-x', visibility: 'shared' }, me, '', 'pending', false],
    [
      'shared, pending member, member_status=pending',
      { owner: 'p-x', visibility: 'shared' },
      me,
      'member_status=pending',
      'pending',
      true,
    ],
    [
      'shared, rejected member, member_status=all',
      { owner: 'p-x', visibility: 'shared' },
      me,
      'member_status=all',
      'rejected',
      true,
    ],
    [
      'shared, accepted member, member_status=rejected',
      { owner: 'p-x', visibility: 'shared' },
      me,
      'member_status=rejected',
      'accepted',
      false,
    ],
    ['shared, not a member', { owner: 'p-x', visibility: 'shared' }, me, 'member_status=all', null, false],
    [
      'own shared, any member_status',
      { owner: 'p-me', visibility: 'shared' },
      me,
      'member_status=rejected',
      null,
      true,
    ],
    [
      'visibility=private keeps own private only',
      { owner: 'p-me', visibility: 'public' },
      me,
      'visibility=private',
      null,
      false,
    ],
    [
      'visibility=shared with accepted membership',
      { owner: 'p-x', visibility: 'shared' },
      me,
      'visibility=shared',
      'accepted',
      true,
    ],
    ['null owner private', { owner: null, visibility: 'private' }, me, '', null, false],
    ['admin sees other private', { owner: 'p-x', visibility: 'private' }, admin, '', null, true],
    [
      'admin, other community, default list',
      { owner: 'p-x', visibility: 'community' },
      admin,
      '',
      null,
      false,
    ],
    [
      'admin, other community, visibility=all',
      { owner: 'p-x', visibility: 'community' },
      admin,
      'visibility=all',
      null,
      true,
    ],
    [
      'admin, shared without membership',
      { owner: 'p-x', visibility: 'shared' },
      admin,
      'member_status=pending',
      null,
      true,
    ],
    [
      'admin, visibility=public filters',
      { owner: 'p-x', visibility: 'private' },
      admin,
      'visibility=public',
      null,
      false,
    ],
  ])('%s → %s', (_, img, caller, qs, membership, expected) => {
    expect(inListScope(img, q(qs), caller, membership)).toBe(expected);
  });
});

describe('wantsMembership: the member statuses a listing loads shared images for', () => {
  it.each([
    ['accepted', 'accepted', true],
    ['accepted', 'pending', false],
    ['accepted', 'rejected', false],
    ['pending', 'pending', true],
    ['pending', 'accepted', false],
    ['rejected', 'rejected', true],
    ['all', 'pending', true],
    ['all', 'rejected', true],
    ['all', null, false],
    ['accepted', null, false],
    ['accepted', undefined, false],
  ] as const)('member_status=%s, membership %s → %s', (filter, membership, expected) => {
    expect(wantsMembership(filter, membership)).toBe(expected);
  });

  it('is exactly what inListScope asks of a non-owner member of a shared image', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MEMBER_STATUS_FILTERS),
        fc.constantFrom('pending', 'accepted', 'rejected', null),
        (filter, membership) =>
          inListScope(
            { owner: 'p-other', visibility: 'shared' },
            { memberStatus: filter },
            { projectId: 'p-me', isAdmin: false },
            membership,
          ) === wantsMembership(filter, membership),
      ),
    );
  });
});

describe('compareImages', () => {
  const DEFAULT = parse('').sort;
  const by = (qs: string) => parse(qs).sort;
  const sorted = (images: ImageRecord[], sort: readonly SortSpec[]) =>
    [...images].sort((a, b) => compareImages(a, b, sort)).map((i) => i.name);

  it('defaults to newest first', () => {
    const older = image({ id: ID_A, name: 'older', created_at: '2026-01-01T00:00:00.000Z' });
    const newer = image({ id: ID_B, name: 'newer', created_at: '2026-01-02T00:00:00.000Z' });
    expect(sorted([older, newer], DEFAULT)).toEqual(['newer', 'older']);
  });

  it('orders by milliseconds within one second', () => {
    const a = image({ id: ID_A, name: 'a', created_at: '2026-01-01T00:00:00.100Z' });
    const b = image({ id: ID_B, name: 'b', created_at: '2026-01-01T00:00:00.200Z' });
    expect(sorted([a, b], by('sort_dir=asc'))).toEqual(['a', 'b']);
  });

  it('breaks created_at ties by id in the same direction', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const a = image({ id: ID_A, name: 'a', created_at: at });
    const b = image({ id: ID_B, name: 'b', created_at: at });
    expect(sorted([a, b], DEFAULT)).toEqual(['b', 'a']);
    expect(sorted([b, a], by('sort_dir=asc'))).toEqual(['a', 'b']);
  });

  it('puts NULLs first ascending and last descending (MySQL)', () => {
    const none = image({ id: ID_A, name: null, size: null });
    const some = image({ id: ID_B, name: 'x', size: 0 });
    expect(sorted([some, none], by('sort=size:asc'))).toEqual([null, 'x']);
    expect(sorted([none, some], by('sort=size:desc'))).toEqual(['x', null]);
    expect(sorted([some, none], by('sort=name:asc'))).toEqual([null, 'x']);
  });

  it('compares names case-insensitively, ties falling through to the tie-breakers', () => {
    const names = ['banana', 'Apple', 'cherry', 'apple'];
    const images = names.map((name, i) =>
      image({
        id: `0000000${i}-0000-4000-8000-000000000000`,
        name,
        created_at: `2026-01-0${i + 1}T00:00:00.000Z`,
      }),
    );
    // One direction given: the created_at tie-breaker runs ascending too.
    expect(sorted(images, by('sort=name:asc'))).toEqual(['Apple', 'apple', 'banana', 'cherry']);
    expect(sorted(images, by('sort=name:asc,created_at:desc'))).toEqual([
      'apple',
      'Apple',
      'banana',
      'cherry',
    ]);
  });

  it('sorts sizes numerically, not as text', () => {
    const images = [9, 100, 10].map((size, i) =>
      image({ id: `0000000${i}-0000-4000-8000-000000000000`, name: String(size), size }),
    );
    expect(sorted(images, by('sort=size:asc'))).toEqual(['9', '10', '100']);
  });

  it('applies keys in order with their own directions', () => {
    const rows = [
      ['raw', 3],
      ['qcow2', 1],
      ['raw', 2],
      ['qcow2', 5],
    ] as const;
    const images = rows.map(([disk_format, size], i) =>
      image({
        id: `0000000${i}-0000-4000-8000-000000000000`,
        name: `${disk_format}-${size}`,
        disk_format,
        size,
      }),
    );
    expect(sorted(images, by('sort=disk_format:asc,size:desc'))).toEqual([
      'qcow2-5',
      'qcow2-1',
      'raw-3',
      'raw-2',
    ]);
  });

  it('falls back to id ascending when a hand-made sort has no id key', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const a = image({ id: ID_A, name: 'a', created_at: at });
    const b = image({ id: ID_B, name: 'b', created_at: at });
    expect(compareImages(b, a, [{ key: 'created_at', dir: 'desc' }])).toBeGreaterThan(0);
  });

  describe('is a total order consistent with the tie-breakers (property tests)', () => {
    const arbImage = fc
      .record({
        id: fc.uuid(),
        name: fc.option(fc.constantFrom('a', 'A', 'b', 'B', 'z', ''), { nil: null }),
        status: fc.constantFrom('queued', 'active', 'killed'),
        size: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
        disk_format: fc.option(fc.constantFrom('raw', 'qcow2'), { nil: null }),
        created: fc.integer({ min: 0, max: 3 }),
        updated: fc.integer({ min: 0, max: 3 }),
      })
      .map(({ id, name, status, size, disk_format, created, updated }) =>
        image({
          id,
          name,
          status,
          size,
          disk_format,
          created_at: new Date(Date.UTC(2026, 0, 1) + created * 500).toISOString(),
          updated_at: new Date(Date.UTC(2026, 0, 1) + updated * 500).toISOString(),
        }),
      );
    const arbSortQuery = fc
      .array(
        fc.tuple(
          fc.constantFrom(
            'name',
            'status',
            'container_format',
            'disk_format',
            'size',
            'id',
            'created_at',
            'updated_at',
          ),
          fc.constantFrom('asc', 'desc'),
        ),
        { maxLength: 4 },
      )
      .map(
        (pairs) =>
          parse(pairs.length === 0 ? '' : `sort=${pairs.map(([k, d]) => `${k}:${d}`).join(',')}`).sort,
      );
    const arbImages = fc.uniqueArray(arbImage, { selector: (i) => i.id, minLength: 2, maxLength: 8 });

    it('antisymmetric, and zero only for the same id', () => {
      fc.assert(
        fc.property(arbImages, arbSortQuery, (images, sort) => {
          for (const a of images) {
            for (const b of images) {
              const ab = Math.sign(compareImages(a, b, sort));
              expect(ab).toBe(-Math.sign(compareImages(b, a, sort)) || 0);
              expect(ab === 0).toBe(a.id === b.id);
            }
          }
        }),
      );
    });

    it('transitive', () => {
      fc.assert(
        fc.property(arbImages, arbSortQuery, (images, sort) => {
          for (const a of images) {
            for (const b of images) {
              for (const c of images) {
                if (compareImages(a, b, sort) < 0 && compareImages(b, c, sort) < 0) {
                  expect(compareImages(a, c, sort)).toBeLessThan(0);
                }
              }
            }
          }
        }),
      );
    });

    it('sorting is independent of the input order (stable pagination)', () => {
      fc.assert(
        fc.property(arbImages, arbSortQuery, fc.nat(), (images, sort, seed) => {
          const rotated = [...images.slice(seed % images.length), ...images.slice(0, seed % images.length)];
          const ids = (list: ImageRecord[]) =>
            [...list].sort((a, b) => compareImages(a, b, sort)).map((i) => i.id);
          expect(ids(rotated)).toEqual(ids([...images].reverse()));
        }),
      );
    });

    it('pages by marker cover the list exactly once', () => {
      fc.assert(
        fc.property(arbImages, arbSortQuery, fc.integer({ min: 1, max: 3 }), (images, sort, limit) => {
          const all = [...images].sort((a, b) => compareImages(a, b, sort));
          const seen: string[] = [];
          let marker: ImageRecord | undefined;
          for (;;) {
            const page = all
              .filter((i) => marker === undefined || compareImages(i, marker, sort) > 0)
              .slice(0, limit);
            seen.push(...page.map((i) => i.id));
            if (page.length < limit) break;
            marker = page.at(-1);
          }
          expect(seen).toEqual(all.map((i) => i.id));
        }),
      );
    });
  });
});

describe('first/next links', () => {
  it.each([
    ['', ''],
    ['limit=2', 'limit=2'],
    [`limit=2&marker=${ID_A}`, 'limit=2'],
    [`marker=${ID_A}`, ''],
    ['tag=a&tag=b&limit=1', 'tag=a&tag=b&limit=1'],
    ['name=in:"a,b",c', 'name=in%3A%22a%2Cb%22%2Cc'],
    ['name=my+image', 'name=my+image'],
    ['x=a~b*c', 'x=a~b%2Ac'],
    ['sort=name:asc', 'sort=name%3Aasc'],
  ])('firstQuery(%j) = %j', (qs, expected) => {
    expect(firstQuery(qs)).toBe(expected);
  });

  it.each([
    ['', `marker=${ID_B}`],
    ['limit=2', `limit=2&marker=${ID_B}`],
    [`marker=${ID_A}&limit=2`, `limit=2&marker=${ID_B}`],
    [`marker=${ID_A}&marker=${ID_A}`, `marker=${ID_B}`],
    ['tag=a&tag=b', `tag=a&tag=b&marker=${ID_B}`],
  ])('nextQuery(%j) = %j', (qs, expected) => {
    expect(nextQuery(qs, ID_B)).toBe(expected);
  });

  it('parses back to the same query plus the marker', () => {
    const qs = 'name=in:"a,b",c&tag=x&tag=y z&sort=name:asc&limit=5&os_distro=ü';
    const again = parse(nextQuery(qs, ID_B));
    expect(again).toEqual({ ...parse(qs), marker: ID_B });
  });

  it.each([
    ['', undefined, { first: '/v2/images' }],
    ['limit=1', undefined, { first: '/v2/images?limit=1' }],
    ['limit=1', ID_B, { first: '/v2/images?limit=1', next: `/v2/images?limit=1&marker=${ID_B}` }],
    [`marker=${ID_A}`, ID_B, { first: '/v2/images', next: `/v2/images?marker=${ID_B}` }],
  ])('pageLinks(%j, %s)', (qs, lastId, links) => {
    expect(pageLinks('/v2/images', qs, lastId)).toEqual(links);
  });

  it('accepts URLSearchParams too', () => {
    expect(pageLinks('/v2/images', new URLSearchParams('limit=1'), ID_B).next).toBe(
      `/v2/images?limit=1&marker=${ID_B}`,
    );
  });
});
