/**
 * Identity mode keystone end to end on the local stack: the local Keystone, the local Secrets
 * Manager and the Keystone authorizer the adapter invokes on every request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accounts, defaultAccounts, newId } from '#infra/local/keystone/accounts';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';

let stack: TestStack;
let accounts: Accounts;
let keystoneUrl: string;

/** The default accounts, plus a user whose role names hold a space and a comma. */
const withOddRoles = (): Accounts => {
  const base = defaultAccounts();
  const demo = base.projects.find((project) => project.name === 'demo');
  if (!demo) throw new Error('no demo project');
  base.users.push({
    id: newId(),
    name: 'odd',
    domain_id: 'default',
    password: 'odd-password',
    roles: { demo: ['image admin', 'a,b', 'member'] },
  });
  return base;
};

const login = async (username: string, password: string, project: string, query = '') => {
  const res = await fetch(`${keystoneUrl}/v3/auth/tokens${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: username, password } } },
        scope: { project: { name: project } },
      },
    }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary token fields.
  const body: any = await res.json();
  return { status: res.status, token: res.headers.get('x-subject-token') ?? '', body };
};
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields.
const json = (res: Response): Promise<any> => res.json();
const passwordOf = (name: string) => accounts.users.find((user) => user.name === name)?.password ?? '';
const glanceError = (code: number, title: string, message: unknown = expect.any(String)) => ({
  error: { code, title, message },
});

beforeAll(async () => {
  stack = await startTestStack({ identity: 'keystone', accounts: withOddRoles() });
  if (!stack.keystone) throw new Error('no local Keystone');
  ({ accounts, url: keystoneUrl } = stack.keystone);
});
afterAll(() => stack?.stop());

describe('local Keystone', () => {
  it('serves version discovery', async () => {
    const root = await fetch(`${keystoneUrl}/`);
    expect(root.status).toBe(300);
    expect((await json(root)).versions.values[0]).toMatchObject({ id: 'v3.14', status: 'stable' });
    const v3 = await fetch(`${keystoneUrl}/v3`);
    expect((await json(v3)).version.links[0].href).toBe(`${keystoneUrl}/v3/`);
  });

  it('issues a project-scoped token with roles and a catalog whose image endpoint is the API', async () => {
    const { status, token, body } = await login('demo', passwordOf('demo'), 'demo');
    expect(status).toBe(201);
    expect(token).not.toBe('');
    expect(body.token).toMatchObject({
      methods: ['password'],
      user: { name: 'demo', domain: { id: 'default', name: 'Default' } },
      project: { name: 'demo', domain: { id: 'default' } },
      roles: [{ name: 'member' }, { name: 'reader' }],
    });
    expect(body.token.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const image = body.token.catalog.find((service: { type: string }) => service.type === 'image');
    expect(
      image.endpoints.map((endpoint: { interface: string; url: string }) => [
        endpoint.interface,
        endpoint.url,
      ]),
    ).toEqual([
      ['public', stack.url],
      ['internal', stack.url],
      ['admin', stack.url],
    ]);
    expect(
      (await login('demo', passwordOf('demo'), 'demo', '?nocatalog')).body.token.catalog,
    ).toBeUndefined();
  });

  it.each([
    ['a wrong password', 'demo', 'nope', 'demo'],
    ['an unknown user', 'ghost', 'x', 'demo'],
    ['a project the user has no role on', 'demo', '', 'admin'],
  ])('answers 401 to %s', async (_, user, password, project) => {
    const { status, body } = await login(user, password || passwordOf(user), project);
    expect(status).toBe(401);
    expect(body).toEqual({
      error: {
        code: 401,
        title: 'Unauthorized',
        message: 'The request you have made requires authentication.',
      },
    });
  });

  it('validates for the service user, 404 once revoked', async () => {
    const service = await login('glance', passwordOf('glance'), 'service');
    const { token } = await login('demo', passwordOf('demo'), 'demo');
    const validate = (method: string) =>
      fetch(`${keystoneUrl}/v3/auth/tokens`, {
        method,
        headers: { 'x-auth-token': service.token, 'x-subject-token': token },
      });
    expect((await validate('HEAD')).status).toBe(200);
    expect((await json(await validate('GET'))).token.user.name).toBe('demo');
    expect((await validate('DELETE')).status).toBe(204);
    expect((await validate('GET')).status).toBe(404);
  });
});

describe('API behind the Keystone authorizer', () => {
  it('accepts a Keystone token and uses its project as the owner', async () => {
    const { token, body } = await login('demo', passwordOf('demo'), 'demo');
    const created = await stack.api('POST', '/v2/images', { token, body: { name: 'k' } });
    expect(created.status).toBe(201);
    expect(created.json.owner).toBe(body.token.project.id);
  });

  it('reads role names exactly: a role with a space or a comma is that one role', async () => {
    const { token } = await login('odd', 'odd-password', 'demo');
    // Not admin: "image admin" is not "admin", so a public image is refused (publicize_image is admin-only).
    const res = await stack.api('POST', '/v2/images', { token, body: { name: 'p', visibility: 'public' } });
    expect(res.status).toBe(403);
  });

  it.each([
    ['no token', undefined, /no token/],
    ['a malformed token', 'not a token at all', /invalid/],
    ['a token no Keystone issued', 'gAAAAABfake', /invalid/],
  ])('answers %s with a Glance 401', async (_, token, message) => {
    const res = await stack.api('GET', '/v2/images', { token });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(glanceError(401, 'Unauthorized', expect.stringMatching(message)));
  });

  it('answers an expired token with a Glance 401', async () => {
    const expired = await stack.signToken({ project: 'p', roles: ['member'], expiresIn: -60 });
    const res = await stack.api('GET', '/v2/images', { token: expired });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(glanceError(401, 'Unauthorized'));
  });

  it('answers a revoked token (Keystone 404) with a Glance 401', async () => {
    const { token } = await login('demo', passwordOf('demo'), 'demo');
    const revoke = await fetch(`${keystoneUrl}/v3/auth/tokens`, {
      method: 'DELETE',
      headers: { 'x-auth-token': token, 'x-subject-token': token },
    });
    expect(revoke.status).toBe(204);
    const res = await stack.api('GET', '/v2/images', { token });
    expect(res.status).toBe(401);
  });

  it('checks the token before the fallbacks answer 404 or 405, and leaves discovery open', async () => {
    expect((await stack.api('GET', '/v2/nowhere')).status).toBe(401);
    expect((await stack.api('PUT', '/v2/images')).status).toBe(401);
    const { token } = await login('demo', passwordOf('demo'), 'demo');
    expect((await stack.api('GET', '/v2/nowhere', { token })).status).toBe(404);
    expect((await stack.api('GET', '/versions')).status).toBe(200);
  });

  it('accepts npm run token tokens too (both identity modes take them)', async () => {
    const token = await stack.tokenFor({ project: 'any-project' });
    expect((await stack.api('GET', '/v2/images', { token })).status).toBe(200);
  });

  it('answers 503 with a clear message while Keystone is unreachable, for tokens it has not validated', async () => {
    const { token } = await login('demo', passwordOf('demo'), 'demo');
    await stack.keystone?.close();
    const res = await stack.api('GET', '/v2/images', { token });
    expect(res.status).toBe(503);
    expect(res.json).toEqual(
      glanceError(503, 'Service Unavailable', expect.stringMatching(/identity service could not be reached/)),
    );
    expect((await stack.api('GET', '/v2/nowhere', { token })).status).toBe(503);
  });
});

describe('version negotiation in keystone mode', () => {
  it('answers an API version we do not serve with 300 before any token check, as Glance does', async () => {
    const res = await stack.api('GET', '/v9/images');
    expect(res.status).toBe(300);
    expect(res.json.versions.map((version: { id: string }) => version.id)).toContain('v2.0');
  });
});
