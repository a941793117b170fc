import { describe, expect, it } from 'vitest';
import {
  API_VERSIONS,
  CURRENT_API_VERSION,
  ENABLED_IMPORT_METHODS,
  importInfo,
  isServedVersion,
  versionsDocument,
} from '#shared/discovery';

describe('versionsDocument', () => {
  const doc = versionsDocument('https://images.example.org');

  it('lists v2.17 … v2.0, newest first, v2.17 CURRENT and every other SUPPORTED', () => {
    expect(doc.versions.map((v) => v.id)).toEqual(Array.from({ length: 18 }, (_, i) => `v2.${17 - i}`));
    expect(doc.versions[0]).toMatchObject({ id: 'v2.17', status: 'CURRENT' });
    expect(doc.versions.slice(1).every((v) => v.status === 'SUPPORTED')).toBe(true);
    expect(CURRENT_API_VERSION).toBe('2.17');
    expect(API_VERSIONS).toHaveLength(18);
  });

  it('renders v2.10 as "v2.10" (Glance passes it as a string, not the float 2.1)', () => {
    expect(doc.versions.filter((v) => v.id === 'v2.1' || v.id === 'v2.10')).toHaveLength(2);
  });

  it('gives every version exactly one self link to <base>/v2/', () => {
    for (const version of doc.versions) {
      expect(version.links).toEqual([{ rel: 'self', href: 'https://images.example.org/v2/' }]);
    }
  });

  it.each([
    ['https://h.example', 'https://h.example/v2/'],
    ['https://h.example/', 'https://h.example/v2/'],
    ['https://h.example//', 'https://h.example/v2/'],
    ['https://h.example/prod', 'https://h.example/prod/v2/'],
    ['http://127.0.0.1:9292', 'http://127.0.0.1:9292/v2/'],
  ])('base %s → href %s', (base, href) => {
    expect(versionsDocument(base).versions[0]?.links[0].href).toBe(href);
  });

  it('serialises to exactly the Glance shape', () => {
    const json = JSON.parse(JSON.stringify(versionsDocument('http://g')));
    expect(Object.keys(json)).toEqual(['versions']);
    expect(json.versions[1]).toEqual({
      id: 'v2.16',
      status: 'SUPPORTED',
      links: [{ rel: 'self', href: 'http://g/v2/' }],
    });
  });
});

describe('importInfo', () => {
  it('single-store deployments offer glance-direct and web-download only', () => {
    expect(ENABLED_IMPORT_METHODS).toEqual(['glance-direct', 'web-download']);
  });

  it('defaults to the enabled methods, in the Glance document shape', () => {
    expect(importInfo()).toEqual({
      'import-methods': {
        description: 'Import methods available.',
        type: 'array',
        value: ['glance-direct', 'web-download'],
      },
    });
  });

  it.each([[[]], [['glance-direct']], [['glance-direct', 'web-download', 'copy-image']]])(
    'lists exactly the given methods %j',
    (methods) => {
      expect(importInfo(methods)['import-methods'].value).toEqual(methods);
    },
  );

  it('copies the list (the document never aliases the caller array)', () => {
    const methods = ['web-download'];
    const doc = importInfo(methods);
    methods.push('glance-direct');
    expect(doc['import-methods'].value).toEqual(['web-download']);
  });
});

describe('isServedVersion', () => {
  it.each([
    ['/v2/images', true],
    ['/v2', true],
    ['/v2.0/images', true],
    ['/v2.17/images', true],
    ['/v2.18/images', false],
    ['/v9/images', false],
    ['/v1/images', false],
    ['/V2/images', false],
    ['/images', false],
    ['/', false],
  ])('%s → %s', (path, served) => {
    expect(isServedVersion(path)).toBe(served);
  });
});
