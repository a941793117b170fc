import { request } from 'node:http';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '#infra/local/api-gateway';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, loadOrCreateKeys, signToken } from '#infra/local/keys';
import { routes } from '#infra/routes';
import { parseRoles } from '#shared/auth';
import { invocations } from '#test/helpers/fixtures/echo';
import { fixtureRoutes } from '#test/helpers/fixtures/routes';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';

let stack: TestStack;
let token: string;

beforeAll(async () => {
  stack = await startTestStack({ routes: [...routes, ...fixtureRoutes] });
  token = await stack.tokenFor({ project: 'p1', roles: ['admin', 'member'], user: 'u1' });
});
afterAll(() => stack?.stop());
beforeEach(() => {
  invocations.length = 0;
});

const glanceError = (code: number, title: string) => ({
  error: { code, title, message: expect.any(String) },
});

/** node:http rather than fetch, to send a header twice. */
const rawRequest = (
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  body?: Buffer,
) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${stack.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });

/** What the HTTP API JWT authorizer answers a request it refuses, whatever the function would. */
const API_GATEWAY_UNAUTHORIZED = { message: 'Unauthorized' };

describe('payload v2 event', () => {
  it('carries route key, raw query, decoded path parameters, joined headers and flattened claims', async () => {
    const path = '/test/echo/a%20b/items/x%2Cy?tag=a&tag=b%20c&limit=5&empty';
    const res = await rawRequest(
      'POST',
      path,
      {
        'X-Auth-Token': token,
        'X-Repeated': ['one', 'two'],
        'Content-Type': 'application/json',
        Cookie: 'a=1; b=2',
        'User-Agent': 'local-test',
      },
      Buffer.from('{"name":"ü"}'),
    );
    expect(res.status).toBe(200);
    expect(invocations).toHaveLength(1);
    const { event, context } = JSON.parse(res.body) as {
      event: APIGatewayProxyEventV2WithJWTAuthorizer;
      context: Record<string, unknown>;
    };

    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /test/echo/{id}/items/{item}',
      rawPath: '/test/echo/a%20b/items/x%2Cy',
      rawQueryString: 'tag=a&tag=b%20c&limit=5&empty',
      queryStringParameters: { tag: 'a,b c', limit: '5', empty: '' },
      pathParameters: { id: 'a b', item: 'x,y' },
      cookies: ['a=1', 'b=2'],
      body: '{"name":"ü"}',
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({
      'x-repeated': 'one,two',
      'content-type': 'application/json',
      'user-agent': 'local-test',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);

    const { requestContext } = event;
    expect(requestContext).toMatchObject({
      accountId: expect.any(String),
      apiId: expect.any(String),
      domainName: new URL(stack.url).host,
      http: {
        method: 'POST',
        path: '/test/echo/a%20b/items/x%2Cy',
        protocol: 'HTTP/1.1',
        userAgent: 'local-test',
      },
      routeKey: 'POST /test/echo/{id}/items/{item}',
      stage: '$default',
      requestId: expect.any(String),
      timeEpoch: expect.any(Number),
    });
    expect(requestContext.http.sourceIp).toBe('127.0.0.1');
    expect(requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);

    const { claims, scopes } = requestContext.authorizer.jwt;
    expect(scopes).toBeNull();
    expect(claims).toMatchObject({ sub: 'u1', project_id: 'p1', roles: '[admin member]', iss: LOCAL_ISSUER });
    expect(Object.values(claims).every((value) => typeof value === 'string')).toBe(true);
    expect(claims.exp).toMatch(/^\d+$/);
    expect(parseRoles(claims.roles)).toEqual(['admin', 'member']);

    expect(context).toMatchObject({ functionName: 'Echo', awsRequestId: expect.any(String) });
    expect(context.remainingMs).toBeGreaterThan(0);
  });

  it('omits what API Gateway omits on an unauthenticated route without query, parameters or body', async () => {
    const res = await stack.api('GET', '/test/open');
    expect(res.status).toBe(200);
    const { event } = res.json as { event: Record<string, unknown> & { requestContext: object } };
    expect(event.rawQueryString).toBe('');
    for (const key of ['queryStringParameters', 'pathParameters', 'body', 'cookies'])
      expect(event).not.toHaveProperty(key);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext).not.toHaveProperty('authorizer');
  });

  it('base64-encodes binary bodies and decodes base64 responses', async () => {
    const bytes = Buffer.from([0, 255, 1, 128, 10]);
    const res = await stack.api('PUT', '/test/open', {
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    const { event } = res.json as { event: APIGatewayProxyEventV2WithJWTAuthorizer };
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(bytes);

    const binary = await fetch(`${stack.url}/test/open?reply=binary`);
    expect(binary.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await binary.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 253, 254, 255]));
  });

  it("takes the token from X-Auth-Token only, the JWT authorizer's identity source: not from Authorization", async () => {
    const res = await stack.api('POST', '/test/echo/1/items/2', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(API_GATEWAY_UNAUTHORIZED);
  });
});

describe('JWT authorizer', () => {
  it("answers API Gateway's 401 without invoking the function when the token is missing", async () => {
    const res = await stack.api('POST', '/test/echo/1/items/2', { body: {} });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(API_GATEWAY_UNAUTHORIZED);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(invocations).toHaveLength(0);
  });

  it('answers 401 for malformed, foreign, expired and wrong-audience tokens', async () => {
    const otherKeys = await loadOrCreateKeys();
    const ownKeys = stack.keys;
    const bad = [
      'not-a-jwt',
      await signToken(otherKeys, { project: 'p1', roles: ['admin'] }),
      await signToken(ownKeys, { project: 'p1', roles: ['admin'], expiresIn: -60 }),
      await new SignJWT({ project_id: 'p1' })
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject('u1')
        .setIssuer(LOCAL_ISSUER)
        .setAudience(`${LOCAL_AUDIENCE}-other`)
        .setExpirationTime('1h')
        .sign(ownKeys.privateJwk),
    ];
    for (const badToken of bad) {
      const res = await stack.api('POST', '/test/echo/1/items/2', { token: badToken });
      expect(res.status).toBe(401);
      expect(res.json).toEqual(API_GATEWAY_UNAUTHORIZED);
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer scope="" error="invalid_token" error_description="[^"]+"$/,
      );
    }
    expect(invocations).toHaveLength(0);
  });

  it('protects the real routes too, before their function is even loaded', async () => {
    const res = await stack.api('GET', '/v2/images');
    expect(res.status).toBe(401);
    expect(res.json).toEqual(API_GATEWAY_UNAUTHORIZED);
  });
});

describe('routing', () => {
  it('sends an unknown path to the $default function: 401 without a token, else a Glance 404', async () => {
    expect((await stack.api('GET', '/v2/nothing-here')).status).toBe(401);
    const res = await stack.api('GET', '/v2/nothing-here', { token });
    expect(res.status).toBe(404);
    expect(res.json).toEqual({
      error: { code: 404, title: 'Not Found', message: 'The resource could not be found: /v2/nothing-here' },
    });
  });

  it.each(['/v9/images', '/v1/images', '/v2.99/images', '/images', '/v3'])(
    'answers %s (no API version we serve) with 300 and the versions document, as Glance does',
    async (path) => {
      const res = await stack.api('GET', path, { token });
      expect(res.status).toBe(300);
      expect(res.json.versions[0]).toMatchObject({ id: 'v2.17', status: 'CURRENT' });
    },
  );

  it('routes on the decoded path as HTTP API does: %2F separates segments, %252F is a literal %2F', async () => {
    // No route matches: `$default` answers (with the versions document, for a path that is no API version).
    const split = await stack.api('POST', '/test/echo/a/items/x%2Fy', { token });
    expect(split.status).not.toBe(200);
    expect(invocations).toHaveLength(0);

    const literal = await rawRequest('POST', '/test/echo/a/items/x%252Fy', { 'X-Auth-Token': token });
    expect(literal.status).toBe(200);
    const { event } = JSON.parse(literal.body) as { event: APIGatewayProxyEventV2WithJWTAuthorizer };
    // Decoded once, for routing; the event keeps the raw path.
    expect(event.pathParameters).toEqual({ id: 'a', item: 'x%2Fy' });
    expect(event.rawPath).toBe('/test/echo/a/items/x%252Fy');
  });

  it('sends a known path with another method to the ANY route: 405 with Allow', async () => {
    const res = await stack.api('PUT', '/v2/images', { token });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, GET');
    expect(res.json).toEqual(glanceError(405, 'Method Not Allowed'));

    expect((await stack.api('POST', '/v2/images/abc/tags/x')).status).toBe(401);
    const withParam = await stack.api('POST', '/v2/images/abc/tags/x', { token });
    expect(withParam.status).toBe(405);
    expect(withParam.headers.get('allow')).toBe('PUT, DELETE');
  });
});

describe('limits and failures', () => {
  it('answers 413 for a body over 6 MB, announced by Content-Length', async () => {
    const res = await stack.api('PUT', '/test/open', {
      body: Buffer.alloc(MAX_PAYLOAD_BYTES + 1),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(413);
    expect(res.json).toEqual(glanceError(413, 'Request Entity Too Large'));
    expect(invocations).toHaveLength(0);
  });

  it('answers a streamed body as soon as it passes 6 MB', async () => {
    let sent = 0;
    const chunk = new Uint8Array(1024 * 1024);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Far more than the limit: the adapter must answer without waiting for the end.
        if (sent >= 64 * chunk.length) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${stack.url}/test/open`, {
      method: 'PUT',
      body,
      headers: { 'content-type': 'text/plain' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(glanceError(413, 'Request Entity Too Large'));
    expect(sent).toBeLessThan(64 * chunk.length);
    expect(invocations).toHaveLength(0);
  });

  it('counts the event, so base64 growth of a binary body under 6 MB can pass the limit', async () => {
    const res = await stack.api('PUT', '/test/open', {
      body: Buffer.alloc(5 * 1024 * 1024),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(413);
    const text = await stack.api('PUT', '/test/open', {
      body: 'x'.repeat(5 * 1024 * 1024),
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(200);
  });

  it('answers a throwing function with a Glance 500 that hides the error', async () => {
    const res = await stack.api('GET', '/test/throw');
    expect(res.status).toBe(500);
    expect(res.json).toEqual({
      error: {
        code: 500,
        title: 'Internal Server Error',
        message: 'The server has either erred or is incapable of performing the requested operation.',
      },
    });
    expect(res.text).not.toContain('secret');
  });
});
