/**
 * `npx serverless-glance metadefs load|export` against the local stack's table: idempotent loads,
 * overwrite, all-or-nothing on bad files, a round trip through export, and the real bin once.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMetadefsCli } from '#bin/metadefs';
import { STARTER_CATALOG } from '#shared/metadefs/loader';
import { as, type MetadefsStack, startMetadefsStack } from './helpers.ts';

let stack: MetadefsStack;
let dir: string;

beforeAll(async () => {
  stack = await startMetadefsStack({ seed: false });
  dir = await mkdtemp(join(tmpdir(), 'glance-metadefs-'));
});
afterAll(async () => {
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
});

const cli = async (...args: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runMetadefsCli(
    [...args, '--endpoint', stack.dynamoEndpoint, '--table', stack.tableName],
    {
      out: (text) => void out.push(text),
      err: (text) => void err.push(text),
    },
  );
  return { code, out: out.join(''), err: err.join('') };
};

const NAMESPACE = {
  namespace: 'Files::Example',
  display_name: 'Example',
  visibility: 'public',
  protected: true,
  resource_type_associations: [{ name: 'OS::Files::Type', prefix: 'ex_' }],
  properties: { colour: { title: 'Colour', type: 'string', enum: ['red', 'blue'] } },
  objects: [
    {
      name: 'Shape',
      required: ['sides'],
      properties: { sides: { title: 'Sides', type: 'integer', minimum: 3 } },
    },
  ],
  tags: [{ name: 'files' }],
};

const writeJson = (path: string, value: unknown) => writeFile(path, JSON.stringify(value));
const show = async (name: string) => as(stack, stack.admin)('GET', `/v2/metadefs/namespaces/${name}`);

describe('metadefs load', () => {
  it('loads every file of a directory, and a second run changes nothing', async () => {
    const source = join(dir, 'load');
    await rm(source, { recursive: true, force: true });
    await mkdir(source);
    await writeJson(join(source, 'example.json'), NAMESPACE);
    await writeJson(join(source, 'other.json'), { namespace: 'Files::Other' });
    await writeFile(join(source, 'README.txt'), 'not a catalog file');

    const first = await cli('load', source);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toContain('created  Files::Example, Files::Other');
    const shown = (await show('Files::Example')).json;
    expect(shown).toMatchObject({ owner: 'admin', protected: true, tags: [{ name: 'files' }] });
    expect(shown.objects[0]).toMatchObject({ name: 'Shape', required: ['sides'] });
    const types = await stack.repository.listResourceTypes();
    expect(types.find((type) => type.name === 'OS::Files::Type')).toMatchObject({ protected: true });

    const again = await cli('load', source);
    expect(again.out).toContain('kept     Files::Example, Files::Other');
    expect((await show('Files::Example')).json).toEqual(shown);
  });

  it('replaces a namespace that differs with --overwrite, and only then', async () => {
    const file = join(dir, 'changing.json');
    await writeJson(file, { namespace: 'Files::Changing', description: 'one' });
    await cli('load', file);
    await writeJson(file, { namespace: 'Files::Changing', description: 'two' });
    expect((await cli('load', file)).out).toContain('kept');
    expect((await show('Files::Changing')).json.description).toBe('one');
    expect((await cli('load', file, '--overwrite')).out).toContain('replaced Files::Changing');
    expect((await show('Files::Changing')).json.description).toBe('two');
    expect((await cli('load', file, '--overwrite')).out).toContain('kept');
  });

  it('writes nothing when any file is bad, and says which and why', async () => {
    const source = join(dir, 'bad');
    await mkdir(source);
    await writeJson(join(source, 'a-good.json'), { namespace: 'Files::Good' });
    await writeFile(join(source, 'b-broken.json'), '{"namespace": ');
    await writeJson(join(source, 'c-invalid.json'), {
      namespace: 'Files::Bad',
      properties: { p: { type: 'string' } },
    });
    await writeJson(join(source, 'd-long.json'), { namespace: 'n'.repeat(81) });
    await writeJson(join(source, 'e-again.json'), { namespace: 'Files::Good' });
    const result = await cli('load', source);
    expect(result.code).toBe(1);
    expect(result.err).toContain('Nothing was loaded');
    expect(result.err).toMatch(/b-broken\.json: .*JSON/);
    expect(result.err).toContain(
      "c-invalid.json: Provided object does not match schema 'namespace': 'title' is a required property",
    );
    expect(result.err).toContain('d-long.json');
    expect(result.err).toContain('e-again.json: namespace Files::Good is also defined in');
    expect((await show('Files::Good')).status).toBe(404);
  });

  it('loads the starter catalog', async () => {
    expect((await cli('load', STARTER_CATALOG)).code).toBe(0);
    expect((await show('ServerlessGlance::OperatingSystem')).json.properties.os_distro.title).toBe(
      'Distribution',
    );
  });

  it('takes the table from TABLE_NAME when --table is not given', async () => {
    const out: string[] = [];
    const code = await runMetadefsCli(
      ['export', join(dir, 'env-table'), '--endpoint', stack.dynamoEndpoint],
      {
        out: (text) => void out.push(text),
        err: (text) => void out.push(text),
      },
    );
    expect(process.env.TABLE_NAME).toBe(stack.tableName);
    expect([code, out.join('')]).toEqual([0, expect.stringMatching(/^exported \d+ namespace\(s\)/)]);
  });

  it('answers usage errors with 2', async () => {
    expect(await runMetadefsCli([], { out: () => {}, err: () => {} })).toBe(2);
    expect(await runMetadefsCli(['load', dir, '--bogus'], { out: () => {}, err: () => {} })).toBe(2);
    expect((await cli('load', join(dir, 'missing-dir'))).code).toBe(1);
  });
});

describe('metadefs export', () => {
  it('writes one file per namespace that loads back to the same catalog', async () => {
    const out = join(dir, 'export');
    const result = await cli('export', out);
    expect(result.code).toBe(0);
    const files = (await readdir(out)).sort();
    expect(files).toContain('Files-Example.json');
    expect(JSON.parse(await readFile(join(out, 'Files-Example.json'), 'utf8'))).toEqual({
      ...NAMESPACE,
      owner: 'admin',
    });
    const before = await stack.repository.listNamespaces();
    expect((await cli('load', out, '--overwrite')).out).not.toContain('replaced');
    expect(await stack.repository.listNamespaces()).toEqual(before);
  });

  it('runs as the real npx bin, with dummy credentials for the local endpoint when there are none', async () => {
    // No AWS_* variables and no TABLE_NAME: a shell without any AWS setup.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && name !== 'TABLE_NAME'),
    );
    const { stdout } = await promisify(execFile)(
      'npx',
      [
        'serverless-glance',
        'metadefs',
        'export',
        join(dir, 'bin-export'),
        '--endpoint',
        stack.dynamoEndpoint,
        '--table',
        stack.tableName,
      ],
      { timeout: 60_000, env },
    );
    expect(stdout).toMatch(/exported \d+ namespace\(s\)/);
    expect((await readdir(join(dir, 'bin-export'))).length).toBeGreaterThan(2);
  });
});
