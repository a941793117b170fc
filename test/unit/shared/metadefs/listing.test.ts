import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequest } from '#shared/errors';
import {
  checkObjectListQuery,
  NAMESPACE_SORT_KEYS,
  namespaceLinks,
  namespacePage,
  parseNamespaceListQuery,
  parseTagListQuery,
  tagPage,
} from '#shared/metadefs/listing';
import type { NamespaceRecord } from '#shared/metadefs/model';
import { namespaceRecord } from '#test/helpers/metadefs';

const q = (text: string) => new URLSearchParams(text);

describe('parseNamespaceListQuery', () => {
  it("uses Glance's defaults: 25, newest first by created_at", () => {
    expect(parseNamespaceListQuery(q(''))).toEqual({ limit: 25, sortKey: 'created_at', sortDir: 'desc' });
  });

  it('caps the limit at 1000 and reads filters', () => {
    expect(
      parseNamespaceListQuery(q('limit=5000&visibility=public&resource_types=A,B&marker=m')),
    ).toMatchObject({
      limit: 1000,
      visibility: 'public',
      resourceTypes: ['A', 'B'],
      marker: 'm',
    });
  });

  it.each([
    ['limit=abc', 'limit param must be an integer'],
    ['limit=1.5', 'limit param must be an integer'],
    ['limit=-1', 'limit param must be positive'],
    ['sort_dir=up', 'Invalid sort direction: up'],
    ['visibility=shared', 'Invalid visibility value: shared'],
    ['sort_key=id', 'Invalid sort key: id.'],
    ['sort_key=constructor', 'Invalid sort key: constructor.'],
  ])('refuses %s', (text, message) => {
    expect(() => parseNamespaceListQuery(q(text))).toThrow(BadRequest);
    expect(() => parseNamespaceListQuery(q(text))).toThrow(message);
  });

  it('allows limit=0, which lists nothing', () => {
    const query = parseNamespaceListQuery(q('limit=0'));
    expect(namespacePage([namespaceRecord()], query)).toEqual({ namespaces: [] });
  });
});

describe('namespacePage', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
  const record = fc
    .record({
      name: fc.string({ minLength: 1, maxLength: 3 }),
      minute: fc.integer({ min: 0, max: 5 }),
      visibility: fc.constantFrom('public' as const, 'private' as const),
      display: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
      types: fc.subarray(['A', 'B']),
    })
    .map(({ name, minute, visibility, display, types }) =>
      namespaceRecord(
        {
          namespace: name,
          visibility,
          ...(display ? { display_name: display } : {}),
          resource_type_associations: types.map((type) => ({ name: type })),
        },
        at(minute),
      ),
    );
  const records = fc.uniqueArray(record, { selector: (r) => r.namespace, maxLength: 12 });

  it('pages through every matching namespace once, in order, following next (property)', () => {
    fc.assert(
      fc.property(
        records,
        fc.constantFrom(...NAMESPACE_SORT_KEYS),
        fc.constantFrom('asc', 'desc'),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom('', 'visibility=public', 'resource_types=A', 'resource_types=A,B'),
        (all, sortKey, sortDir, limit, filter) => {
          const query = parseNamespaceListQuery(
            q(`limit=${limit}&sort_key=${sortKey}&sort_dir=${sortDir}&${filter}`),
          );
          const seen: NamespaceRecord[] = [];
          let marker: NamespaceRecord | undefined;
          for (let pages = 0; pages <= all.length + 1; pages++) {
            const page = namespacePage(all, query, marker);
            seen.push(...page.namespaces);
            if (!page.next) break;
            marker = all.find((r) => r.namespace === page.next);
          }
          const whole = namespacePage(all, { ...query, limit: 1000 }).namespaces;
          expect(seen.map((r) => r.namespace)).toEqual(whole.map((r) => r.namespace));
        },
      ),
    );
  });

  it('sorts missing values first, then by creation', () => {
    const a = namespaceRecord({ namespace: 'a', display_name: 'z' }, at(1));
    const b = namespaceRecord({ namespace: 'b' }, at(2));
    const query = parseNamespaceListQuery(q('sort_key=display_name&sort_dir=asc'));
    expect(namespacePage([a, b], query).namespaces.map((r) => r.namespace)).toEqual(['b', 'a']);
  });
});

describe('namespaceLinks', () => {
  it("keeps the request's parameters, drops the marker from first and puts the new one last", () => {
    expect(namespaceLinks('limit=2&marker=old&sort_dir=asc', 'OS::Next')).toEqual({
      first: '/v2/metadefs/namespaces?limit=2&sort_dir=asc',
      next: '/v2/metadefs/namespaces?limit=2&sort_dir=asc&marker=OS%3A%3ANext',
    });
    expect(namespaceLinks('')).toEqual({ first: '/v2/metadefs/namespaces' });
  });
});

describe('objects and tags', () => {
  it.each(['limit=0', 'limit=x', 'sort_dir=sideways', 'visibility=community'])(
    'objects refuse %s',
    (text) => {
      expect(() => checkObjectListQuery(q(text))).toThrow(BadRequest);
    },
  );

  it('pages tags by name or creation, the tie broken by creation order', () => {
    const record = namespaceRecord({ tags: ['b', 'c', 'a'] });
    const byName = parseTagListQuery(q('sort_key=name&sort_dir=asc&limit=2'));
    expect(tagPage(record.tags, byName).map((t) => t.name)).toEqual(['a', 'b']);
    expect(tagPage(record.tags, byName, record.tags[0]).map((t) => t.name)).toEqual(['c']);
    const newest = parseTagListQuery(q(''));
    expect(tagPage(record.tags, newest).map((t) => t.name)).toEqual(['a', 'c', 'b']);
    expect(tagPage(record.tags, parseTagListQuery(q('limit=0'))).length).toBe(3);
    expect(() => parseTagListQuery(q('sort_key=id'))).toThrow(BadRequest);
  });
});
