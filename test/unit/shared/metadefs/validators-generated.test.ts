/**
 * The validators compiled at build time (validators.generated.ts) against the same schemas compiled
 * by ajv at run time, as the functions did before: for any body, the same verdict and the same
 * first error, whose value and allowed values (what refusals quote) are where validate.ts reads them.
 */
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROPERTY_MODEL_SCHEMA, REQUEST_SCHEMAS } from '#shared/metadefs/schemas';
import * as validators from '#shared/metadefs/validators.generated';

const runtime = new Ajv({ strict: false, allErrors: false, verbose: true, validateFormats: false });

const valueAt = (root: unknown, pointer: string): unknown =>
  pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], root);

/** Bodies near the schema: its own keys (and one it does not know) with any JSON, nested a level down. */
const bodyFor = (schema: { properties?: object }) => {
  const keys = [...Object.keys(schema.properties ?? {}), 'colour'];
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.string({ maxLength: 90, unit: 'grapheme' }),
    fc.dictionary(
      fc.constantFrom('p', 'q'),
      fc.dictionary(fc.constantFrom(...keys, 'title', 'type', 'enum'), fc.jsonValue({ maxDepth: 1 })),
    ),
    fc.array(
      fc.dictionary(fc.constantFrom('name', 'properties', 'required', 'x'), fc.jsonValue({ maxDepth: 1 })),
      { maxLength: 2 },
    ),
  );
  return fc.oneof(
    fc.jsonValue({ maxDepth: 1 }),
    fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 4 }),
  );
};

const SCHEMAS: Record<string, object> = { ...REQUEST_SCHEMAS, property_definition: PROPERTY_MODEL_SCHEMA };

describe.each(Object.entries(validators))('the generated %s validator', (name, { validate: generated }) => {
  const schema = SCHEMAS[name] as { properties?: object };
  const compiled = runtime.compile(schema);

  it('is compiled from a schema the functions serve or store by', () => {
    expect(schema).toBeDefined();
  });

  it('finds what ajv finds at run time, first error included', () => {
    fc.assert(
      fc.property(bodyFor(schema), (body) => {
        expect(generated(body)).toBe(compiled(body));
        const [mine] = generated.errors ?? [];
        const [theirs] = compiled.errors ?? [];
        if (!theirs) return;
        expect(mine).toMatchObject({
          keyword: theirs.keyword,
          instancePath: theirs.instancePath,
          params: theirs.params,
          message: theirs.message,
        });
        expect(valueAt(body, theirs.instancePath)).toEqual(theirs.data);
        if (theirs.keyword === 'enum') expect(theirs.params.allowedValues).toEqual(theirs.schema);
      }),
      { numRuns: 300 },
    );
  });
});
