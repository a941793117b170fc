/**
 * The runtime wiring (shared/runtime.ts): built on first use, once, from the configuration read
 * as a whole; a missing setting fails the first accessor that needs it, naming the variable.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const VARIABLES = [
  'TABLE_NAME',
  'BUCKET_NAME',
  'STATE_MACHINE_ARN',
  'COMPLETE_UPLOAD_FUNCTION',
  'IMAGE_SIZE_CAP',
  'UPLOAD_URL_SECONDS',
  'KEYSTONE_URL',
  'KEYSTONE_SERVICE_SECRET',
  'KEYSTONE_CACHE_SECONDS',
];
let saved: Record<string, string | undefined>;

/** A fresh copy of the module: its accessors remember what they built. */
const freshRuntime = async () => {
  vi.resetModules();
  return import('#shared/runtime');
};
/** The error class of the module copy `freshRuntime` loaded last. */
const missingConfigError = async () => (await import('#shared/config')).MissingConfigError;

beforeEach(() => {
  saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, { TABLE_NAME: 'table', BUCKET_NAME: 'bucket' });
});
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('the runtime wiring', () => {
  it('builds each dependency once and shares it', async () => {
    const runtime = await freshRuntime();
    expect(runtime.images()).toBe(runtime.images());
    expect(runtime.uploadContext().images).toBe(runtime.images());
    expect(runtime.uploadContext().store).toBe(runtime.objectStore());
    expect(runtime.objectStore().bucket).toBe('bucket');
    expect(runtime.importStepDeps().tasks).toBe(runtime.tasks());
    expect(runtime.metadefs()).toBe(runtime.metadefs());
    process.env.STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:import';
    expect(runtime.importApiDeps().store).toBe(runtime.objectStore());
    process.env.COMPLETE_UPLOAD_FUNCTION = 'CompleteUpload';
    expect(runtime.completions()).toBe(runtime.completions());
  });

  it('builds the Keystone client and its validation cache from the authorizer settings only', async () => {
    delete process.env.TABLE_NAME;
    delete process.env.BUCKET_NAME;
    Object.assign(process.env, { KEYSTONE_URL: 'https://keystone.test/v3', KEYSTONE_SERVICE_SECRET: 's' });
    const runtime = await freshRuntime();
    expect(runtime.keystoneClient()).toBe(runtime.keystoneClient());
    expect(runtime.tokenValidations()).toBe(runtime.tokenValidations());
    expect(runtime.keystoneConfig()).toEqual({
      url: 'https://keystone.test/v3',
      serviceSecret: 's',
      cacheSeconds: 300,
      timeoutMs: 3000,
    });
  });

  it.each([
    ['TABLE_NAME', (runtime: typeof import('#shared/runtime')) => runtime.images()],
    ['BUCKET_NAME', (runtime: typeof import('#shared/runtime')) => runtime.objectStore()],
    ['TABLE_NAME', (runtime: typeof import('#shared/runtime')) => runtime.metadefs()],
    ['STATE_MACHINE_ARN', (runtime: typeof import('#shared/runtime')) => runtime.importApiDeps()],
    ['COMPLETE_UPLOAD_FUNCTION', (runtime: typeof import('#shared/runtime')) => runtime.completions()],
    ['KEYSTONE_URL', (runtime: typeof import('#shared/runtime')) => runtime.keystoneClient()],
    ['KEYSTONE_SERVICE_SECRET', (runtime: typeof import('#shared/runtime')) => runtime.tokenValidations()],
  ])('fails the first accessor that needs a missing %s, naming it', async (name, access) => {
    Object.assign(process.env, { KEYSTONE_URL: 'https://keystone.test/v3', KEYSTONE_SERVICE_SECRET: 's' });
    delete process.env[name];
    const runtime = await freshRuntime();
    expect(() => access(runtime)).toThrow(await missingConfigError());
    expect(() => access(runtime)).toThrow(name);
  });

  it('reads a section whole: a malformed setting fails every accessor of its section; the repositories read only TABLE_NAME', async () => {
    process.env.IMAGE_SIZE_CAP = 'big';
    const runtime = await freshRuntime();
    expect(runtime.images()).toBe(runtime.images());
    expect(() => runtime.serviceConfig()).toThrow(/IMAGE_SIZE_CAP/);
    expect(() => runtime.uploadContext()).toThrow(/IMAGE_SIZE_CAP/);
    delete process.env.IMAGE_SIZE_CAP;
    process.env.UPLOAD_URL_SECONDS = '3600';
    await expect((async () => (await freshRuntime()).uploadContext())()).rejects.toThrow(
      /UPLOAD_URL_SECONDS/,
    );
  });

  it('reads the configuration once: later changes of the environment do not reach a warm container', async () => {
    const runtime = await freshRuntime();
    expect(runtime.serviceConfig().tableName).toBe('table');
    process.env.TABLE_NAME = 'other';
    expect(runtime.serviceConfig().tableName).toBe('table');
  });
});
