import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateKeys, localVerifier } from '#infra/local/keys';
import { startLocalStack } from '#infra/local/stack';
import { callerFromClaims } from '#shared/auth';
import { fixtureRoutes } from '#test/helpers/fixtures/routes';

const root = fileURLToPath(new URL('../../..', import.meta.url));
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'glance-token-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const runCli = (args: string[]) =>
  promisify(execFile)('npx', ['tsx', 'infra/local/token-cli.ts', ...args], {
    cwd: root,
    env: { ...process.env, GLANCE_DATA_DIR: dataDir },
  });

describe('token CLI', () => {
  it('prints only a token that verifyToken accepts with the key in the data dir', async () => {
    const { stdout } = await runCli([
      '--project',
      'p1',
      '--roles',
      'admin,member',
      '--user',
      'u1',
      '--expires',
      '1h',
    ]);
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);

    const claims = await localVerifier(await loadOrCreateKeys(dataDir))(stdout.trim());
    expect(claims).toMatchObject({ sub: 'u1', project_id: 'p1', roles: ['admin', 'member'] });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
    expect(callerFromClaims(claims)).toEqual({
      userId: 'u1',
      projectId: 'p1',
      roles: ['admin', 'member'],
      isAdmin: true,
    });
  });

  it('answers bad arguments with usage on stderr and exit code 2', async () => {
    for (const args of [
      [],
      ['--roles', 'member'],
      ['--project', 'p1', '--roles', 'member', '--bogus'],
      ['--project', 'p1', '--roles', 'member', '--expires', 'soon'],
    ]) {
      const failure = await runCli(args).then(
        () => undefined,
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(failure?.code).toBe(2);
      expect(failure?.stdout).toBe('');
      expect(failure?.stderr).toContain('usage: npm run --silent token');
    }
  });

  it('signs with the same key the local stack verifies with', async () => {
    const stack = await startLocalStack({ port: 0, persist: false, dataDir, routes: fixtureRoutes });
    try {
      const { stdout } = await runCli(['--project', 'p2', '--roles', 'member']);
      const res = await fetch(`${stack.url}/test/echo/1/items/2`, {
        method: 'POST',
        headers: { 'x-auth-token': stdout.trim() },
      });
      expect(res.status).toBe(200);
      expect(process.env.TABLE_NAME).toBe(stack.tableName);
      expect(process.env.AWS_ENDPOINT_URL_S3).toBe(stack.s3Endpoint);
      expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(stack.dynamoEndpoint);
    } finally {
      await stack.stop();
    }
  });
});
