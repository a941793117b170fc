import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequest } from '#shared/errors';
import { fileNameFor, namespaceFromFile, namespaceToFile } from '#shared/metadefs/files';

const NOW = new Date('2026-03-01T00:00:00Z');
const FILE = {
  namespace: 'OS::Compute::Example',
  display_name: 'Example',
  description: 'An example.',
  visibility: 'public',
  protected: true,
  resource_type_associations: [{ name: 'OS::Glance::Image' }, { name: 'OS::Nova::Flavor', prefix: 'hw:' }],
  properties: { cpu_policy: { title: 'CPU policy', type: 'string', enum: ['shared', 'dedicated'] } },
  objects: [
    {
      name: 'Memory',
      description: 'Memory settings',
      required: ['mem_page_size'],
      properties: { mem_page_size: { title: 'Page size', type: 'string' } },
    },
  ],
  tags: [{ name: 'compute' }],
};

describe('catalog files', () => {
  it("gives files without an owner to 'admin', as Glance's loader does", () => {
    expect(namespaceFromFile(FILE, NOW).owner).toBe('admin');
    expect(namespaceFromFile({ ...FILE, owner: 'p1' }, NOW).owner).toBe('p1');
  });

  it('exports what it loads (round trip)', () => {
    const exported = namespaceToFile(namespaceFromFile(FILE, NOW));
    expect(exported).toEqual({ ...FILE, owner: 'admin' });
    expect(namespaceToFile(namespaceFromFile(exported, NOW))).toEqual(exported);
  });

  it.each<[string, unknown]>([
    ['an array', [FILE]],
    ['a namespace without a name', { ...FILE, namespace: undefined }],
    ['an invalid property definition', { ...FILE, properties: { p: { type: 'string' } } }],
    ['a name over 80 characters', { ...FILE, namespace: 'n'.repeat(81) }],
    ['an unknown key in an object', { ...FILE, objects: [{ name: 'o', colour: 'red' }] }],
    ['a read-only attribute', { ...FILE, created_at: '2026-01-01T00:00:00Z' }],
  ])('refuses %s', (_, json) => {
    expect(() => namespaceFromFile(json, NOW)).toThrow();
    try {
      namespaceFromFile(json, NOW);
    } catch (error) {
      expect((error as { status?: number }).status).toBeGreaterThanOrEqual(400);
    }
  });

  it('refuses non-objects with a clear message', () => {
    expect(() => namespaceFromFile('text', NOW)).toThrow(BadRequest);
  });
});

describe('fileNameFor', () => {
  it('makes readable names', () => {
    expect(fileNameFor('OS::Compute::Libvirt', new Set())).toBe('OS-Compute-Libvirt.json');
    expect(fileNameFor('../../etc/passwd', new Set())).toBe('etc-passwd.json');
    expect(fileNameFor('::', new Set())).toBe('namespace.json');
  });

  it('never gives two namespaces the same file, never a path (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 12 }), { maxLength: 20 }), (names) => {
        const taken = new Set<string>();
        for (const name of names) {
          const file = fileNameFor(name, taken);
          expect(taken.has(file.toLowerCase())).toBe(false);
          expect(file).not.toMatch(/[/\\]|^\./);
          taken.add(file.toLowerCase());
        }
      }),
    );
  });
});
