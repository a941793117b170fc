/**
 * A small stand-in for API Gateway HTTP API in front of the functions: it routes with the same
 * table as CDK (infra/routes.ts), authorizes like the deployed API (identity mode `jwt`: verifies
 * JWTs like the HTTP API JWT authorizer; `keystone`: invokes the very Lambda authorizer CDK
 * deploys, payload 2.0 with simple responses), and invokes each function through the local Lambda
 * runtime (lambda-runtime.ts) with a payload-v2 event built the way API Gateway builds it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEventV2,
} from 'aws-lambda';
import {
  routes as allRoutes,
  methodNotAllowedEntry,
  notFoundEntry,
  pathNeedsToken,
  type Route,
} from '#infra/routes';
import { type GlanceError, InternalError, PayloadTooLarge } from '#shared/errors';
import type { TokenVerifier } from './keys.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, type LocalFunction, lambdaRuntime } from './lambda-runtime.ts';

/**
 * Lambda's synchronous invocation limit, for the request event and the response alike. The
 * request body is capped at this size while it is read (so nothing unbounded is buffered), then
 * the serialized event must fit too: base64 makes a binary body count 4/3 of its size, as on AWS.
 */
export const MAX_PAYLOAD_BYTES = 6_291_456;

const API_ID = 'local';
/** Lambda's timeout when a route does not set one; only `getRemainingTimeInMillis` uses it. */
const DEFAULT_TIMEOUT_SECONDS = 29;

/** How routes with `auth: true` are authorized: the two identity modes of the deployed API. */
export type LocalAuthorizer =
  | { readonly mode: 'jwt'; readonly verify: TokenVerifier }
  | {
      readonly mode: 'keystone';
      /** The authorizer's entry file, relative to `root`. */
      readonly entry: string;
    };

export interface ApiGatewayOptions {
  readonly authorizer: LocalAuthorizer;
  /** 0 (the default) lets the OS choose. */
  readonly port?: number;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /** Defaults to the route table of infra/routes.ts; tests add fixture routes. */
  readonly routes?: readonly Route[];
  /** Directory route entries are relative to; defaults to the repository root. */
  readonly root?: string;
}

export interface ApiGateway {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

interface Target {
  readonly name: string;
  readonly routeKey: string;
  readonly entry: string;
  readonly auth: boolean;
  readonly timeoutSeconds?: number;
  readonly memoryMb?: number;
}

interface Compiled {
  readonly path: string;
  readonly pattern: RegExp;
  readonly params: string[];
  readonly literals: number;
}

const compile = (path: string): Compiled => {
  const params: string[] = [];
  const segments = path.split('/').map((segment) => {
    const param = /^\{([^}]+)\}$/.exec(segment)?.[1];
    if (param === undefined) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    params.push(param);
    return '([^/]+)';
  });
  return {
    path,
    pattern: new RegExp(`^${segments.join('/')}$`),
    params,
    literals: segments.length - params.length,
  };
};

/** API Gateway prefers the most specific route: more literal segments win over `{param}` ones. */
const bySpecificity = (a: Compiled, b: Compiled) => b.literals - a.literals;

/** Matches the decoded path; its parameters are taken as they are, never decoded twice. */
const matchPath = (compiled: Compiled, path: string): Record<string, string> | undefined => {
  const match = compiled.pattern.exec(path);
  if (!match) return undefined;
  return Object.fromEntries(compiled.params.map((name, i) => [name, match[i + 1] ?? '']));
};

const decode = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/** Starts the adapter; it serves until `close()`. */
export const startApiGateway = async (options: ApiGatewayOptions): Promise<ApiGateway> => {
  const runtime = lambdaRuntime(options.root);
  const host = options.host ?? '127.0.0.1';
  const table = (options.routes ?? allRoutes).map((route) => ({ route, ...compile(route.path) }));
  table.sort(bySpecificity);
  const anyPaths = [...new Set(table.map((entry) => entry.path))].map(compile).sort(bySpecificity);

  const resolveTarget = (method: string, path: string) => {
    for (const entry of table) {
      if (entry.route.method !== method) continue;
      const pathParameters = matchPath(entry, path);
      if (!pathParameters) continue;
      const { name, entry: file, auth, timeoutSeconds, memoryMb } = entry.route;
      const target: Target = {
        name,
        routeKey: `${method} ${entry.path}`,
        entry: file,
        auth,
        timeoutSeconds,
        memoryMb,
      };
      return { target, pathParameters };
    }
    for (const compiled of anyPaths) {
      const pathParameters = matchPath(compiled, path);
      if (!pathParameters) continue;
      const target: Target = {
        name: 'MethodNotAllowed',
        routeKey: `ANY ${compiled.path}`,
        entry: methodNotAllowedEntry,
        auth: pathNeedsToken(compiled.path, options.routes ?? allRoutes),
      };
      return { target, pathParameters };
    }
    // `$default` is JWT-protected on AWS too (the API's default authorizer).
    const target: Target = { name: 'NotFound', routeKey: '$default', entry: notFoundEntry, auth: true };
    return { target, pathParameters: {} };
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    res.setHeader('apigw-requestid', requestId);
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
    const rawQueryString = queryAt < 0 ? '' : url.slice(queryAt + 1);
    const method = req.method ?? 'GET';
    // HTTP API matches routes on the decoded path: `%2F` is a `/` there, so `tags/a%2Fb` is two
    // segments and matches no `{tag}` route (D15). The event still carries the raw path.
    const { target, pathParameters } = resolveTarget(method, decode(rawPath));
    const { headers, cookies } = eventHeaders(req);

    let claims: Record<string, string> | undefined;
    if (target.auth && options.authorizer.mode === 'jwt') {
      // Like the JWT authorizer: checked before the function runs, which never sees a bad token;
      // its identity source is X-Auth-Token alone (infra/constructs/api.ts), and it answers with
      // API Gateway's own 401, not Glance's.
      const token = headers['x-auth-token']?.trim();
      if (!token) return sendJwtRefusal(res);
      try {
        claims = flattenClaims(await options.authorizer.verify(token));
      } catch (error) {
        return sendJwtRefusal(res, error instanceof Error ? error.message : 'invalid token');
      }
    }

    const body = await readBody(req);
    if (body === undefined) return rejectTooLarge(req, res);

    const event = buildEvent({
      req,
      requestId,
      target,
      rawPath,
      rawQueryString,
      headers,
      cookies,
      pathParameters,
      claims,
      body,
    });
    if (Buffer.byteLength(JSON.stringify(event)) > MAX_PAYLOAD_BYTES) return rejectTooLarge(req, res);

    if (target.auth && options.authorizer.mode === 'keystone') {
      // The Lambda authorizer runs on every request (no identity source, no result cache).
      let decision: { isAuthorized?: unknown; context?: unknown };
      try {
        decision = ((await runtime.invoke(
          { ...KEYSTONE_AUTHORIZER, entry: options.authorizer.entry },
          authorizerEvent(event),
        )) ?? {}) as typeof decision;
      } catch (error) {
        // API Gateway answers a failed authorizer with a bare 500, and the function never runs.
        console.error('authorizer failed', error);
        return sendApiGatewayMessage(res, 500, 'Internal Server Error');
      }
      if (decision.isAuthorized !== true) return sendApiGatewayMessage(res, 403, 'Forbidden');
      (event.requestContext as unknown as { authorizer: unknown }).authorizer = {
        lambda: decision.context ?? {},
      };
    }

    let result: APIGatewayProxyStructuredResultV2;
    try {
      result = structuredResult(await runtime.invoke(functionOf(target), event));
    } catch (error) {
      // API Gateway answers a failed invocation with a bare 500; the Lambda log has the details.
      console.error(`${target.name} failed`, error);
      return sendError(res, new InternalError());
    }
    if (Buffer.byteLength(JSON.stringify(result)) > MAX_PAYLOAD_BYTES) {
      console.error(`${target.name} returned more than Lambda's 6 MB response limit`);
      return sendError(res, new InternalError());
    }
    res.statusCode = result.statusCode ?? 200;
    for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
    res.end(Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8'));
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      console.error('local API Gateway failed', error);
      if (res.headersSent) res.destroy();
      else sendError(res, new InternalError());
    });
  });
  server.listen(options.port ?? 0, host);
  await new Promise<void>((ready, fail) => server.once('listening', ready).once('error', fail));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    close: () =>
      new Promise<void>((done, fail) => {
        server.close((error) => (error ? fail(error) : done()));
        server.closeAllConnections();
      }),
  };
};

interface EventParts {
  readonly req: IncomingMessage;
  readonly requestId: string;
  readonly target: Target;
  readonly rawPath: string;
  readonly rawQueryString: string;
  readonly headers: Record<string, string>;
  readonly cookies: string[];
  readonly pathParameters: Record<string, string>;
  readonly claims: Record<string, string> | undefined;
  readonly body: Buffer;
}

/** The Keystone authorizer as deployed (infra/constructs/api.ts): its name and timeout. */
const KEYSTONE_AUTHORIZER: Omit<LocalFunction, 'entry'> = { name: 'KeystoneAuthorizer', timeoutSeconds: 10 };

/** The payload 2.0 REQUEST authorizer event API Gateway sends for a request event. */
const authorizerEvent = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
): APIGatewayRequestAuthorizerEventV2 => {
  const { requestContext, body: _body, isBase64Encoded: _encoded, ...request } = event;
  return {
    ...request,
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${API_ID}/$default/${requestContext.http.method}${event.rawPath}`,
    identitySource: [],
    requestContext: requestContext as unknown as APIGatewayRequestAuthorizerEventV2['requestContext'],
  } as APIGatewayRequestAuthorizerEventV2;
};

/** API Gateway's own error bodies (authorizer deny and failure), not Glance's shape. */
const sendApiGatewayMessage = (res: ServerResponse, status: number, message: string) => {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ message }));
};

/** The payload v2 event, with the optional fields left out when API Gateway leaves them out. */
const buildEvent = (parts: EventParts): APIGatewayProxyEventV2WithJWTAuthorizer => {
  const { req, requestId, target, rawPath, rawQueryString, headers, cookies, pathParameters, claims, body } =
    parts;
  const now = new Date();
  const textual = isTextual(headers['content-type']);
  return {
    version: '2.0',
    routeKey: target.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(rawQueryString !== '' && { queryStringParameters: queryParameters(rawQueryString) }),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: API_ID,
      // Routes without an authorizer get no `authorizer` key at all, as on AWS.
      ...(claims && {
        authorizer: { jwt: { claims, scopes: claims.scope ? claims.scope.split(' ') : null } },
      }),
      domainName: headers.host ?? '',
      domainPrefix: (headers.host ?? '').split('.')[0] ?? '',
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: sourceIp(req),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: target.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    } as APIGatewayProxyEventV2WithJWTAuthorizer['requestContext'],
    ...(target.routeKey.includes('{') && { pathParameters }),
    ...(body.length > 0 && { body: body.toString(textual ? 'utf8' : 'base64') }),
    isBase64Encoded: body.length > 0 && !textual,
  };
};

const sourceIp = (req: IncomingMessage) => (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');

/**
 * Payload v2 headers: names lower-cased, repeated headers joined with commas, cookies moved to
 * `cookies`, and the forwarding headers API Gateway adds.
 */
const eventHeaders = (req: IncomingMessage) => {
  const headers = new Map<string, string>();
  const cookies: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    if (name === 'cookie') cookies.push(...value.split(/;\s*/).filter(Boolean));
    else headers.set(name, headers.has(name) ? `${headers.get(name)},${value}` : value);
  }
  const forwardedFor = headers.get('x-forwarded-for');
  headers.set('x-forwarded-for', forwardedFor ? `${forwardedFor}, ${sourceIp(req)}` : sourceIp(req));
  headers.set('x-forwarded-port', String(req.socket.localPort ?? ''));
  headers.set('x-forwarded-proto', 'http');
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  headers.set('x-amzn-trace-id', `Root=1-${epoch}-${randomBytes(12).toString('hex')}`);
  return { headers: Object.fromEntries(headers) as Record<string, string>, cookies };
};

/** Repeated keys are joined with commas, as payload v2 does; `rawQueryString` keeps them apart. */
const queryParameters = (rawQueryString: string): Record<string, string> => {
  const params = new Map<string, string>();
  for (const pair of rawQueryString.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const key = decode(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? '' : decode(pair.slice(at + 1));
    params.set(key, params.has(key) ? `${params.get(key)},${value}` : value);
  }
  return Object.fromEntries(params);
};

/** HTTP APIs pass text media types as text and base64-encode everything else. */
const isTextual = (contentType: string | undefined): boolean => {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type.startsWith('text/') ||
    ['application/json', 'application/xml', 'application/javascript'].includes(type) ||
    /\+(json|xml)$/.test(type)
  );
};

/**
 * The JWT authorizer hands every claim over as a string: numbers and booleans printed, arrays as
 * `[a b]` (shared/auth.ts parseRoles reads that back) and objects as `map[k:v]`.
 */
const flattenClaims = (payload: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, flattenClaim(value)]));

const flattenClaim = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(flattenClaim).join(' ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return `map[${entries.map(([k, v]) => `${k}:${flattenClaim(v)}`).join(' ')}]`;
  }
  return String(value);
};

/** Reads the body up to the limit; `undefined` means it is larger (nothing more is kept). */
const readBody = (req: IncomingMessage): Promise<Buffer | undefined> => {
  if (Number(req.headers['content-length'] ?? 0) > MAX_PAYLOAD_BYTES) return Promise.resolve(undefined);
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PAYLOAD_BYTES) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd);
      done(undefined);
    };
    const onEnd = () => done(Buffer.concat(chunks));
    req.on('data', onData).on('end', onEnd).once('error', fail);
  });
};

/**
 * 413 as soon as the limit is passed. The rest of the upload is discarded, never buffered, on a
 * connection kept open: closing it mid-upload races the answer, and clients then see a broken
 * pipe instead of the 413 (fetch stops sending once it has the answer; python-requests reads it
 * after sending everything).
 */
const rejectTooLarge = (req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  sendError(
    res,
    new PayloadTooLarge(
      `The request is larger than the ${MAX_PAYLOAD_BYTES}-byte limit. Upload image data larger than ` +
        'about 4.45 MiB with POST /v2/images/{image_id}/file/presign (or /stage/presign), ' +
        'or with `npx serverless-glance upload`.',
    ),
  );
};

/**
 * The HTTP API JWT authorizer's refusal: `401 {"message":"Unauthorized"}`, and for a token it
 * checked, why in `www-authenticate` (docs/identity.md#jwt-mode).
 */
const sendJwtRefusal = (res: ServerResponse, why?: string) => {
  res.statusCode = 401;
  res.setHeader('Content-Type', 'application/json');
  if (why !== undefined) {
    const description = why.replace(/["\\\r\n]/g, ' ');
    res.setHeader(
      'www-authenticate',
      `Bearer scope="" error="invalid_token" error_description="${description}"`,
    );
  }
  res.end(JSON.stringify({ message: 'Unauthorized' }));
};

const sendError = (res: ServerResponse, error: GlanceError) => {
  res.statusCode = error.status;
  res.setHeader('Content-Type', 'application/json; charset=UTF-8');
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.end(JSON.stringify(error.toBody()));
};

/** Payload v2 response rules: a result without `statusCode` is a 200 JSON body. */
const structuredResult = (result: unknown): APIGatewayProxyStructuredResultV2 => {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    return result as APIGatewayProxyStructuredResultV2;
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: typeof result === 'string' ? result : JSON.stringify(result),
  };
};

/** The function behind a target, as the local Lambda runtime runs it. */
const functionOf = (target: Target): LocalFunction => ({
  name: target.name,
  entry: target.entry,
  timeoutSeconds: target.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
  memoryMb: target.memoryMb,
});

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `requestContext.time` format: `12/Mar/2020:19:03:58 +0000`. */
const clfTime = (date: Date): string => {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
};
