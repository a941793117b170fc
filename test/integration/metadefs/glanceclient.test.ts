/**
 * python-glanceclient's `md-*` commands against the local stack: the client builds its models
 * from our schemas and validates every answer against them (warlock), so this proves both the
 * routes and the documents. Skipped, with the reason, where the Debian package is missing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MetadefsStack, startMetadefsStack } from './helpers.ts';

const GLANCE = '/usr/bin/glance';
const run = promisify(execFile);

let stack: MetadefsStack;

const glance = async (...args: string[]): Promise<string> => {
  const quoted = args.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  const { stdout } = await run(
    'bash',
    ['-c', `${GLANCE} --os-image-url ${stack.url} --os-auth-token "$TOKEN" ${quoted} <&-`],
    { env: { ...process.env, TOKEN: stack.admin, HOME: process.env.HOME ?? '/tmp' }, timeout: 30_000 },
  );
  return stdout;
};

/** `| key | value |` rows of the CLI's tables. */
const table = (output: string): Record<string, string> =>
  Object.fromEntries(
    output
      .split('\n')
      .map((line) => /^\|\s*(\S+)\s*\|\s*(.*?)\s*\|$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1] ?? '', match[2] ?? '']),
  );

describe.runIf(existsSync(GLANCE))('python-glanceclient md-* commands', () => {
  beforeAll(async () => {
    stack = await startMetadefsStack();
  });
  afterAll(() => stack.stop());

  it('lists the starter catalog and shows a namespace', async () => {
    expect(await glance('md-namespace-list')).toContain('ServerlessGlance::OperatingSystem');
    expect(await glance('md-resource-type-list')).toContain('OS::Glance::Image');
    expect(table(await glance('md-namespace-show', 'ServerlessGlance::Hardware'))).toMatchObject({
      properties: '["architecture"]',
      objects: '["Firmware"]',
      protected: 'True',
    });
  });

  it('creates, updates and renames a namespace, and fills it', async () => {
    expect(table(await glance('md-namespace-create', 'cli-ns', '--visibility', 'public'))).toMatchObject({
      namespace: 'cli-ns',
      visibility: 'public',
    });
    expect(
      table(await glance('md-namespace-update', 'cli-ns', '--display-name', 'CLI', '--protected', 'true')),
    ).toMatchObject({ display_name: 'CLI', protected: 'True' });
    await glance(
      'md-property-create',
      'cli-ns',
      '--name',
      'hw_x',
      '--title',
      'X',
      '--schema',
      '{"type":"string","enum":["a","b"]}',
    );
    expect(table(await glance('md-property-update', 'cli-ns', 'hw_x', '--title', 'Y'))).toMatchObject({
      title: 'Y',
    });
    await glance(
      'md-object-create',
      'cli-ns',
      '--name',
      'Obj',
      '--schema',
      '{"properties":{"p":{"type":"string","title":"P"}},"required":["p"]}',
    );
    expect(table(await glance('md-object-update', 'cli-ns', 'Obj', '--name', 'Obj2'))).toMatchObject({
      name: 'Obj2',
    });
    expect(table(await glance('md-object-property-show', 'cli-ns', 'Obj2', 'p'))).toMatchObject({
      title: 'P',
    });
    await glance('md-tag-create-multiple', 'cli-ns', '--names', 'a,b');
    expect(table(await glance('md-tag-update', 'cli-ns', 'a', '--name', 'A2'))).toMatchObject({ name: 'A2' });
    await glance('md-resource-type-associate', 'cli-ns', '--name', 'OS::Nova::Flavor', '--prefix', 'hw:');
    expect(await glance('md-namespace-resource-type-list', 'cli-ns')).toContain('hw:');
    const renamed = table(
      await glance('md-namespace-update', 'cli-ns', '--namespace', 'cli-renamed', '--protected', 'false'),
    );
    expect(renamed).toMatchObject({ namespace: 'cli-renamed', protected: 'False' });
    const shown = table(await glance('md-namespace-show', 'cli-renamed'));
    expect(shown).toMatchObject({
      properties: '["hw_x"]',
      objects: '["Obj2"]',
      resource_type_associations: '["OS::Nova::Flavor"]',
    });
  });

  it('empties and deletes a namespace', async () => {
    await glance('md-namespace-create', 'cli-gone', '--visibility', 'public');
    await glance('md-tag-create', 'cli-gone', '--name', 'x');
    await glance('md-namespace-tags-delete', 'cli-gone');
    expect(await glance('md-tag-list', 'cli-gone')).not.toContain('| x');
    await glance('md-namespace-delete', 'cli-gone');
    expect(await glance('md-namespace-list')).not.toContain('cli-gone');
  });
});
