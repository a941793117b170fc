import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Conflict, Forbidden, NotFound } from '#shared/errors';
import {
  addAssociation,
  addObject,
  addProperty,
  addTag,
  addTags,
  findTag,
  newNamespace,
  removeAllObjects,
  removeAllProperties,
  removeAllTags,
  removeAssociation,
  removeObject,
  removeProperty,
  removeTag,
  renameTag,
  unprefixedPropertyName,
  updateNamespace,
  updateObject,
  updateProperty,
  withResourceTypePrefix,
} from '#shared/metadefs/changes';
import { tagKey } from '#shared/metadefs/model';
import { namespaceRecord } from '#test/helpers/metadefs';

const NOW = new Date('2026-03-02T12:00:00Z');
const STRING = { type: 'string', title: 'S' } as const;
const INTEGER = { type: 'integer', title: 'I' } as const;

const errorOf = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
};

describe('newNamespace', () => {
  it("applies Glance's defaults: private, unprotected, the caller's project", () => {
    const record = newNamespace(
      { namespace: 'n', properties: {}, objects: [], tags: [], resource_type_associations: [] },
      'p1',
      NOW,
    );
    expect(record).toMatchObject({ visibility: 'private', protected: false, owner: 'p1', version: 1 });
    expect(record.created_at).toBe(NOW.toISOString());
  });

  it.each([
    [
      'objects',
      {
        objects: [
          { name: 'o', required: [], properties: {} },
          { name: 'o', required: [], properties: {} },
        ],
      },
      'object with name=o',
    ],
    ['tags, whatever their case', { tags: ['Tag', 'tag'] }, 'metadata tag with name=tag'],
    [
      'resource types',
      { resource_type_associations: [{ name: 'OS::X' }, { name: 'OS::X' }] },
      'resource-type=OS::X',
    ],
  ])('refuses duplicate %s with 409', (_, input, message) => {
    const error = errorOf(() => namespaceRecord(input));
    expect(error).toBeInstanceOf(Conflict);
    expect(error.message).toContain(message);
  });
});

describe('updateNamespace', () => {
  it('replaces the attributes, resetting what the body leaves out, and keeps the content', () => {
    const record = namespaceRecord({
      display_name: 'D',
      description: 'old',
      visibility: 'public',
      protected: true,
      properties: { p: STRING },
    });
    const updated = updateNamespace(record, { namespace: 'OS::Test' }, 'p-admin', NOW);
    expect(updated).toMatchObject({ visibility: 'private', protected: false, owner: 'p-admin' });
    expect(updated.display_name).toBeUndefined();
    expect(updated.description).toBeUndefined();
    expect(updated.properties).toEqual({ p: STRING });
    expect(updated.created_at).toBe(record.created_at);
    expect(updated.updated_at).toBe(NOW.toISOString());
  });
});

describe('properties', () => {
  it('adds, renames in place and removes', () => {
    let record = namespaceRecord({ properties: { a: STRING, b: STRING, c: STRING } });
    record = updateProperty(record, 'b', 'B', INTEGER);
    expect(Object.entries(record.properties)).toEqual([
      ['a', STRING],
      ['B', INTEGER],
      ['c', STRING],
    ]);
    record = removeProperty(addProperty(record, 'd', STRING), 'a');
    expect(Object.keys(record.properties)).toEqual(['B', 'c', 'd']);
  });

  it('answers 409 for a taken name, 404 for an unknown one, 403 when protected', () => {
    const record = namespaceRecord({ properties: { a: STRING, b: STRING } });
    expect(errorOf(() => addProperty(record, 'a', STRING))).toBeInstanceOf(Conflict);
    expect(errorOf(() => updateProperty(record, 'a', 'b', STRING)).message).toContain('Invalid update');
    expect(errorOf(() => updateProperty(record, 'x', 'y', STRING))).toBeInstanceOf(NotFound);
    expect(errorOf(() => removeProperty(record, 'x')).message).toBe('Could not find property x');
    const locked = { ...record, protected: true };
    expect(errorOf(() => removeProperty(locked, 'a')).message).toBe(
      'Metadata definition property a is protected and cannot be deleted.',
    );
    expect(errorOf(() => removeAllProperties(locked))).toBeInstanceOf(Forbidden);
    expect(removeAllProperties(record).properties).toEqual({});
  });

  it('treats __proto__ and constructor as ordinary names', () => {
    let record = namespaceRecord();
    expect(errorOf(() => removeProperty(record, 'constructor'))).toBeInstanceOf(NotFound);
    record = addProperty(record, '__proto__', STRING);
    record = addProperty(record, 'constructor', INTEGER);
    expect(Object.keys(record.properties)).toEqual(['__proto__', 'constructor']);
    expect(
      Object.getOwnPropertyDescriptor(JSON.parse(JSON.stringify(record.properties)), '__proto__')?.value,
    ).toEqual(STRING);
    expect(Object.getPrototypeOf(record.properties)).toBe(Object.prototype);
  });
});

describe('objects', () => {
  const input = (name: string) => ({ name, required: [], properties: {} });

  it('adds, updates (keeping its creation time and place) and removes', () => {
    let record = namespaceRecord({ objects: [input('a'), input('b')] });
    const created = record.objects[1]?.created_at;
    const { record: updated, object } = updateObject(record, 'b', { ...input('B'), description: 'd' }, NOW);
    expect(object).toMatchObject({
      name: 'B',
      description: 'd',
      created_at: created,
      updated_at: NOW.toISOString(),
    });
    expect(updated.objects.map((o) => o.name)).toEqual(['a', 'B']);
    record = addObject(updated, input('c'), NOW).record;
    expect(removeObject(record, 'a').objects.map((o) => o.name)).toEqual(['B', 'c']);
  });

  it('answers 409, 404 and 403 like Glance', () => {
    const record = namespaceRecord({ objects: [input('a'), input('b')] });
    expect(errorOf(() => addObject(record, input('a'), NOW)).message).toBe(
      'A metadata definition object with name=a already exists in namespace=OS::Test.',
    );
    expect(errorOf(() => updateObject(record, 'a', input('b'), NOW))).toBeInstanceOf(Conflict);
    expect(errorOf(() => updateObject(record, 'x', input('y'), NOW)).message).toBe(
      'Could not find metadata object x',
    );
    expect(errorOf(() => removeObject({ ...record, protected: true }, 'a'))).toBeInstanceOf(Forbidden);
    expect(errorOf(() => removeAllObjects({ ...record, protected: true })).message).toBe(
      'Metadata definition namespace OS::Test is protected and cannot be deleted.',
    );
  });
});

describe('tags', () => {
  it('finds, refuses and renames regardless of case', () => {
    const record = namespaceRecord({ tags: ['Alpha', 'beta'] });
    expect(findTag(record, 'ALPHA').name).toBe('Alpha');
    expect(errorOf(() => addTag(record, 'BETA', NOW))).toBeInstanceOf(Conflict);
    expect(errorOf(() => renameTag(record, 'alpha', 'Beta', NOW))).toBeInstanceOf(Conflict);
    expect(renameTag(record, 'alpha', 'ALPHA', NOW).tag.name).toBe('ALPHA');
    expect(errorOf(() => removeTag(record, 'gamma')).message).toBe('Could not find metadata tag gamma');
    expect(errorOf(() => removeTag({ ...record, protected: true }, 'beta'))).toBeInstanceOf(Forbidden);
    expect(errorOf(() => removeAllTags({ ...record, protected: true }))).toBeInstanceOf(Forbidden);
  });

  it('bulk: replaces, or appends with the header; an empty list changes nothing', () => {
    const record = namespaceRecord({ tags: ['a'] });
    expect(addTags(record, ['b', 'c'], false, NOW).record.tags.map((t) => t.name)).toEqual(['b', 'c']);
    expect(addTags(record, ['b'], true, NOW).record.tags.map((t) => t.name)).toEqual(['a', 'b']);
    expect(addTags(record, [], false, NOW).record).toBe(record);
    expect(errorOf(() => addTags(record, ['A'], true, NOW))).toBeInstanceOf(Conflict);
    expect(errorOf(() => addTags(record, ['x', 'X'], false, NOW))).toBeInstanceOf(Conflict);
  });

  it('never holds two tags with the same name in any case (property)', () => {
    const name = fc.constantFrom('a', 'A', 'b', 'B', 'c', 'Straße', 'STRASSE');
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), name }),
      fc.record({
        kind: fc.constant('bulk' as const),
        names: fc.array(name, { maxLength: 4 }),
        append: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('rename' as const), from: name, to: name }),
      fc.record({ kind: fc.constant('remove' as const), name }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 20 }), (operations) => {
        let record = namespaceRecord();
        for (const op of operations) {
          try {
            if (op.kind === 'add') record = addTag(record, op.name, NOW).record;
            if (op.kind === 'bulk') record = addTags(record, op.names, op.append, NOW).record;
            if (op.kind === 'rename') record = renameTag(record, op.from, op.to, NOW).record;
            if (op.kind === 'remove') record = removeTag(record, op.name);
          } catch (error) {
            if (!(error instanceof Conflict || error instanceof NotFound)) throw error;
          }
          const keys = record.tags.map((tag) => tagKey(tag.name));
          expect(new Set(keys).size).toBe(keys.length);
        }
      }),
    );
  });
});

describe('resource type associations', () => {
  it('adds once, removes with 404 for unknown and 403 when protected', () => {
    const record = addAssociation(
      namespaceRecord(),
      { name: 'OS::Glance::Image', prefix: 'hw_' },
      NOW,
    ).record;
    expect(errorOf(() => addAssociation(record, { name: 'OS::Glance::Image' }, NOW))).toBeInstanceOf(
      Conflict,
    );
    expect(errorOf(() => removeAssociation(record, 'OS::Nova::Flavor')).message).toBe(
      'Failed to find resource type OS::Nova::Flavor to delete',
    );
    expect(
      errorOf(() => removeAssociation({ ...record, protected: true }, 'OS::Glance::Image')).message,
    ).toBe(
      'Metadata definition resource-type-association OS::Glance::Image is protected and cannot be deleted.',
    );
    expect(removeAssociation(record, 'OS::Glance::Image').resource_type_associations).toEqual([]);
  });
});

describe('resource type prefixes', () => {
  const record = namespaceRecord({
    resource_type_associations: [{ name: 'OS::Nova::Flavor', prefix: 'hw:' }, { name: 'OS::Glance::Image' }],
    properties: { cpu_policy: STRING },
    objects: [{ name: 'o', required: ['mem'], properties: { mem: INTEGER } }],
  });

  it('prefixes property names and required names for an associated type with a prefix', () => {
    const prefixed = withResourceTypePrefix(record, 'OS::Nova::Flavor');
    expect(Object.keys(prefixed.properties)).toEqual(['hw:cpu_policy']);
    expect(Object.keys(prefixed.objects[0]?.properties ?? {})).toEqual(['hw:mem']);
    expect(prefixed.objects[0]?.required).toEqual(['hw:mem']);
  });

  it('changes nothing for a type without prefix or without association', () => {
    expect(withResourceTypePrefix(record, 'OS::Glance::Image')).toBe(record);
    expect(withResourceTypePrefix(record, 'OS::Cinder::Volume')).toBe(record);
  });

  it('finds a property by its prefixed name, and says why it cannot', () => {
    expect(unprefixedPropertyName(record, 'hw:cpu_policy', 'OS::Nova::Flavor')).toBe('cpu_policy');
    expect(errorOf(() => unprefixedPropertyName(record, 'cpu_policy', 'OS::Nova::Flavor')).message).toBe(
      "Property cpu_policy does not start with the expected resource type association prefix of 'hw:'.",
    );
    expect(
      errorOf(() => unprefixedPropertyName(record, 'cpu_policy', 'OS::Glance::Image')).message,
    ).toContain("prefix of 'None'");
    expect(errorOf(() => unprefixedPropertyName(record, 'x', 'OS::Cinder::Volume')).message).toBe(
      'The metadata definition resource-type association of resource-type=OS::Cinder::Volume to namespace=OS::Test, was not found.',
    );
  });
});
