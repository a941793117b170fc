import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { GENERATED_VALIDATORS, metadefValidatorsSource } from '#scripts/generate-metadef-validators';

it('the committed metadefs validators are what the schemas compile to (else: npm run generate:validators)', async () => {
  expect(await readFile(GENERATED_VALIDATORS, 'utf8')).toBe(metadefValidatorsSource());
});
