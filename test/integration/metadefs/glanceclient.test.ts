/**
 * python-glanceclient's `md-*` commands against the local stack: the client builds its models
 * from our schemas and validates every answer against them (warlock), so this proves both the
 * routes and the documents. Skipped, with the reason, where the Debian package is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glanceAvailable, runGlance, cliTable as table } from '#test/helpers/glanceclient';
import { type MetadefsStack, startMetadefsStack } from './helpers.ts';

let stack: MetadefsStack;

const glance = (...args: string[]) => runGlance(stack.url, stack.admin, args);

describe.runIf(glanceAvailable)('python-glanceclient md-* commands', () => {
  beforeAll(async () => {
    stack = await startMetadefsStack();
  });
  afterAll(() => stack.stop());

  // Every call starts a Python interpreter (about a second of CPU): few calls, generous timeouts.
  const SLOW = 120_000;

  it(
    'lists the starter catalog and shows a namespace',
    async () => {
      expect(await glance('md-namespace-list')).toContain('ServerlessGlance::OperatingSystem');
      expect(table(await glance('md-namespace-show', 'ServerlessGlance::Hardware'))).toMatchObject({
        properties: '["architecture"]',
        objects: '["Firmware"]',
        protected: 'True',
      });
    },
    SLOW,
  );

  it(
    'creates a namespace and fills it',
    async () => {
      expect(table(await glance('md-namespace-create', 'cli-ns', '--visibility', 'public'))).toMatchObject({
        namespace: 'cli-ns',
        visibility: 'public',
      });
      await glance(
        'md-property-create',
        'cli-ns',
        '--name',
        'hw_x',
        '--title',
        'X',
        '--schema',
        '{"type":"string"}',
      );
      await glance(
        'md-object-create',
        'cli-ns',
        '--name',
        'Obj',
        '--schema',
        '{"properties":{"p":{"type":"string","title":"P"}},"required":["p"]}',
      );
      await glance('md-tag-create-multiple', 'cli-ns', '--names', 'a,b');
      await glance('md-resource-type-associate', 'cli-ns', '--name', 'OS::Nova::Flavor', '--prefix', 'hw:');
      expect(table(await glance('md-namespace-show', 'cli-ns'))).toMatchObject({
        properties: '["hw_x"]',
        objects: '["Obj"]',
        resource_type_associations: '["OS::Nova::Flavor"]',
      });
    },
    SLOW,
  );

  it(
    'updates and renames a namespace (the client sends back the whole namespace), then deletes it',
    async () => {
      const renamed = table(
        await glance('md-namespace-update', 'cli-ns', '--namespace', 'cli-renamed', '--display-name', 'CLI'),
      );
      expect(renamed).toMatchObject({
        namespace: 'cli-renamed',
        display_name: 'CLI',
        properties: '["hw_x"]',
      });
      expect(table(await glance('md-object-update', 'cli-renamed', 'Obj', '--name', 'Obj2'))).toMatchObject({
        name: 'Obj2',
      });
      await glance('md-namespace-delete', 'cli-renamed');
      expect(await glance('md-namespace-list')).not.toContain('cli-renamed');
    },
    SLOW,
  );
});
