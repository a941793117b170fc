import { describe, expect, it, vi } from 'vitest';
import { KeystoneClient, MAX_TOKEN_LENGTH, type Validation } from '#shared/identity/keystone';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const LATER = '2026-01-01T13:00:00.000000Z';
const CREDENTIALS = { username: 'glance', password: 'pw', project_name: 'service' };

const tokenBody = (token: Record<string, unknown> = {}) => ({
  token: {
    expires_at: LATER,
    user: { id: 'u1', domain: { id: 'default' } },
    project: { id: 'p1', name: 'demo' },
    roles: [{ id: 'r1', name: 'member' }],
    ...token,
  },
});

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

/**
 * A scripted Keystone: `login` answers the service logins in turn (the last one repeats), `check`
 * the validations. Records every request.
 */
const keystone = (script: { login?: Answer[]; check?: Answer[] }) => {
  const logins = [
    ...(script.login ?? [{ status: 201, body: tokenBody(), headers: { 'x-subject-token': 'svc' } }]),
  ];
  const checks = [...(script.check ?? [{ status: 200, body: tokenBody() }])];
  const calls: { method: string; url: string; headers: Record<string, string>; body?: unknown }[] = [];
  const next = (queue: Answer[]) => (queue.length > 1 ? queue.shift() : queue[0]) as Answer;
  const fetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>));
    calls.push({
      method,
      url: String(url),
      headers,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    });
    const answer = next(method === 'POST' ? logins : checks);
    if (answer instanceof Error) throw answer;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: answer.headers,
    });
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
};

const client = (fake: ReturnType<typeof keystone>, credentials: unknown = CREDENTIALS, now = () => NOW) => {
  const read = vi.fn(async (_: { fresh: boolean }) => credentials);
  return {
    read,
    client: new KeystoneClient({
      url: 'https://keystone.test/v3/',
      credentials: read,
      timeoutMs: 50,
      fetch: fake.fetch,
      now,
    }),
  };
};

const invalid = { kind: 'invalid', message: expect.any(String) };
const unavailable = (message: RegExp) =>
  expect.objectContaining({ kind: 'unavailable', message: expect.stringMatching(message) });

describe('KeystoneClient.validate', () => {
  it('asks GET /v3/auth/tokens with the service token and X-Subject-Token, and reads the identity', async () => {
    const fake = keystone({});
    const { client: keystoneClient } = client(fake);
    expect(await keystoneClient.validate('subject')).toEqual({
      kind: 'valid',
      identity: { userId: 'u1', projectId: 'p1', roles: ['member'], expiresAt: new Date(LATER) },
    });
    expect(fake.calls.map((call) => `${call.method} ${call.url}`)).toEqual([
      'POST https://keystone.test/v3/auth/tokens?nocatalog',
      'GET https://keystone.test/v3/auth/tokens?nocatalog',
    ]);
    expect(fake.calls[0]?.body).toEqual({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'glance', domain: { name: 'Default' }, password: 'pw' } },
        },
        scope: { project: { name: 'service', domain: { name: 'Default' } } },
      },
    });
    expect(fake.calls[1]?.headers).toMatchObject({ 'X-Auth-Token': 'svc', 'X-Subject-Token': 'subject' });
  });

  it('keeps role names exactly as Keystone lists them, spaces and commas included', async () => {
    const roles = [{ name: 'image admin' }, { name: 'a,b' }, { name: ' reader' }];
    const { client: keystoneClient } = client(
      keystone({ check: [{ status: 200, body: tokenBody({ roles }) }] }),
    );
    const result = (await keystoneClient.validate('t')) as Extract<Validation, { kind: 'valid' }>;
    expect(result.identity.roles).toEqual(['image admin', 'a,b', ' reader']);
  });

  it.each<[string, Answer, unknown]>([
    ['revoked or unknown (404)', { status: 404, body: { error: { code: 404 } } }, invalid],
    ['rejected as malformed (400)', { status: 400 }, invalid],
    [
      'expired by its body',
      { status: 200, body: tokenBody({ expires_at: '2026-01-01T11:59:59Z' }) },
      invalid,
    ],
    ['not project-scoped', { status: 200, body: tokenBody({ project: undefined }) }, invalid],
    ['Keystone failing (500)', { status: 500 }, unavailable(/answered HTTP 500/)],
    ['Keystone overloaded (503)', { status: 503 }, unavailable(/answered HTTP 503/)],
    ['the service user lacking the right (403)', { status: 403 }, unavailable(/may not validate tokens/)],
    ['a body that is no token', { status: 200, body: { nothing: true } }, unavailable(/could not read/)],
    ['Keystone unreachable', new TypeError('fetch failed'), unavailable(/could not be reached/)],
    [
      'Keystone too slow',
      Object.assign(new Error('timeout'), { name: 'TimeoutError' }),
      unavailable(/did not answer in time/),
    ],
  ])('token %s', async (_, answer, expected) => {
    const { client: keystoneClient } = client(keystone({ check: [answer] }));
    expect(await keystoneClient.validate('t')).toEqual(expected);
  });

  it.each([
    ['too long', 'x'.repeat(MAX_TOKEN_LENGTH + 1)],
    ['with spaces', 'abc def'],
    ['with control characters', 'abc\ndef'],
    ['not ASCII', 'tökén'],
  ])('refuses a token %s without asking Keystone', async (_, token) => {
    const fake = keystone({});
    const { client: keystoneClient } = client(fake);
    expect(await keystoneClient.validate(token)).toEqual(invalid);
    expect(fake.calls).toHaveLength(0);
  });

  it('reuses the service token until a minute before it expires', async () => {
    let now = NOW;
    const fake = keystone({});
    const { client: keystoneClient } = client(fake, CREDENTIALS, () => now);
    await keystoneClient.validate('a');
    await keystoneClient.validate('b');
    expect(fake.calls.filter((call) => call.method === 'POST')).toHaveLength(1);
    now = Date.parse(LATER) - 59_000;
    await keystoneClient.validate('c');
    expect(fake.calls.filter((call) => call.method === 'POST')).toHaveLength(2);
  });

  it('logs in once for concurrent validations', async () => {
    const fake = keystone({});
    const { client: keystoneClient } = client(fake);
    await Promise.all(['a', 'b', 'c'].map((token) => keystoneClient.validate(token)));
    expect(fake.calls.filter((call) => call.method === 'POST')).toHaveLength(1);
  });

  it('re-reads the secret and logs in again once when Keystone refuses the service token', async () => {
    const fake = keystone({ check: [{ status: 401 }, { status: 200, body: tokenBody() }] });
    const { client: keystoneClient, read } = client(fake);
    expect((await keystoneClient.validate('t')).kind).toBe('valid');
    expect(read.mock.calls.map(([options]) => options.fresh)).toEqual([false, true]);
  });

  it('answers unavailable, not invalid, when the fresh service token is refused too', async () => {
    const fake = keystone({ check: [{ status: 401 }] });
    const { client: keystoneClient } = client(fake);
    expect(await keystoneClient.validate('t')).toEqual(unavailable(/refused the service credentials/));
    expect(fake.calls.filter((call) => call.method === 'GET')).toHaveLength(2);
  });

  it.each<[string, Answer, RegExp]>([
    ['refused', { status: 401 }, /refused the service credentials/],
    ['failing', { status: 500 }, /HTTP 500 to the service login/],
    ['without X-Subject-Token', { status: 201, body: tokenBody() }, /HTTP 201 to the service login/],
    ['unreachable', new TypeError('fetch failed'), /could not be reached/],
  ])(
    'answers unavailable when the service login is %s, and tries again next time',
    async (_, login, message) => {
      const fake = keystone({
        login: [login, { status: 201, body: tokenBody(), headers: { 'x-subject-token': 's' } }],
      });
      const { client: keystoneClient } = client(fake);
      expect(await keystoneClient.validate('t')).toEqual(unavailable(message));
      expect((await keystoneClient.validate('t')).kind).toBe('valid');
    },
  );

  it.each([
    ['missing', null],
    ['not JSON credentials', 'a string'],
    ['without a password', { username: 'glance', project_name: 'service' }],
    ['without a project', { username: 'glance', password: 'pw' }],
  ])('answers unavailable when the secret is %s', async (_, credentials) => {
    const fake = keystone({});
    const { client: keystoneClient } = client(fake, credentials);
    expect(await keystoneClient.validate('t')).toEqual(unavailable(/service credentials could not be read/));
    expect(fake.calls).toHaveLength(0);
  });

  it('answers unavailable when the secret cannot be fetched', async () => {
    const fake = keystone({});
    const read = vi.fn(async () => {
      throw new Error('AccessDeniedException');
    });
    const keystoneClient = new KeystoneClient({
      url: 'https://k.test',
      credentials: read,
      timeoutMs: 50,
      fetch: fake.fetch,
    });
    const result = await keystoneClient.validate('t');
    expect(result).toEqual(unavailable(/^The service credentials could not be read\.$/));
    // The cause goes to the logs, not to the client.
    expect(result).toMatchObject({ detail: 'AccessDeniedException' });
  });

  it.each<[string, Record<string, string>, unknown]>([
    [
      'ids',
      { user_id: 'uid', password: 'pw', project_id: 'pid' },
      {
        identity: { methods: ['password'], password: { user: { id: 'uid', password: 'pw' } } },
        scope: { project: { id: 'pid' } },
      },
    ],
    [
      'an application credential',
      { application_credential_id: 'ac', application_credential_secret: 's' },
      {
        identity: { methods: ['application_credential'], application_credential: { id: 'ac', secret: 's' } },
      },
    ],
  ])('logs in with %s', async (_, credentials, auth) => {
    const fake = keystone({});
    await client(fake, credentials).client.validate('t');
    expect(fake.calls[0]?.body).toEqual({ auth });
  });

  it('adds /v3 to a versionless URL', async () => {
    const fake = keystone({});
    const keystoneClient = new KeystoneClient({
      url: 'https://keystone.test:5000',
      credentials: async () => CREDENTIALS,
      timeoutMs: 50,
      fetch: fake.fetch,
      now: () => NOW,
    });
    await keystoneClient.validate('t');
    expect(fake.calls[0]?.url).toBe('https://keystone.test:5000/v3/auth/tokens?nocatalog');
  });
});
