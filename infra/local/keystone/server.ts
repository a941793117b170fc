/**
 * A small Keystone v3 for the local stack: version discovery, password (and token) auth scoped
 * to a project, token validation and revocation, and the read-only project, user and domain
 * look-ups the `openstack` CLI and tempest make. Users and projects come from the accounts file
 * (accounts.ts). Tokens are ES256 JWS signed with the local key (Keystone's `jws` token provider
 * format), carrying the claims `npm run token` signs, so a token from either is accepted by both
 * identity modes. Revocations are kept in memory (docs/identity.md#what-the-local-keystone-serves).
 */
import { createHash, createPublicKey, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, type LocalKeys, signToken } from '#infra/local/keys';
import { CLAIMS, verifyToken } from '#shared/auth';
import { type AccountProject, type Accounts, type AccountUser, DEFAULT_DOMAIN } from './accounts.ts';

export interface LocalKeystoneOptions {
  readonly accounts: Accounts;
  readonly keys: LocalKeys;
  /** The image API's public URL, for the catalog (versionless, as Glance catalogs are). */
  readonly imageUrl: string;
  /** Defaults to 0 (the OS chooses); `npm start` uses 5000. */
  readonly port?: number;
  readonly host?: string;
}

export interface LocalKeystone {
  /** `http://host:port` (versionless); clients use `${url}/v3`. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const MEDIA_TYPE = { base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' };

/** A Keystone error, in Keystone's body shape. */
class KeystoneError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}
const unauthorized = () =>
  new KeystoneError(401, 'Unauthorized', 'The request you have made requires authentication.');
const badRequest = (message: string) => new KeystoneError(400, 'Bad Request', message);
const notFound = (message: string) => new KeystoneError(404, 'Not Found', message);
const forbidden = () =>
  new KeystoneError(403, 'Forbidden', 'You are not authorized to perform the requested action.');

interface TokenClaims {
  readonly userId: string;
  readonly projectId?: string;
  readonly roles: readonly string[];
  readonly methods: readonly string[];
  readonly auditId: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

/** Keystone prints microseconds; tempest parses `%Y-%m-%dT%H:%M:%S.%fZ`. */
const keystoneTime = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
const stableId = (kind: string, name: string) =>
  createHash('sha256').update(`${kind}:${name}`).digest('hex').slice(0, 32);
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** The implied roles `keystone-manage bootstrap` creates: admin implies member, member implies reader. */
const IMPLIED_ROLES: Readonly<Record<string, readonly string[]>> = { admin: ['member'], member: ['reader'] };
export const withImpliedRoles = (roles: readonly string[]): string[] => {
  const all = [...roles];
  for (let i = 0; i < all.length; i++) {
    for (const implied of IMPLIED_ROLES[all[i] ?? ''] ?? []) if (!all.includes(implied)) all.push(implied);
  }
  return all;
};

export const startLocalKeystone = async (options: LocalKeystoneOptions): Promise<LocalKeystone> => {
  const { accounts, keys } = options;
  const host = options.host ?? '127.0.0.1';
  /** Revoked token hashes, with the token's expiry (after which the entry is useless). */
  const revoked = new Map<string, number>();
  const publicKey = createPublicKey({ key: keys.publicJwk as Record<string, string>, format: 'jwk' });
  let baseUrl = '';

  const domainById = (id: string) => accounts.domains.find((domain) => domain.id === id);
  const domainRef = (ref: unknown): { id: string; name: string } => {
    const { id, name } = (ref ?? {}) as { id?: unknown; name?: unknown };
    const domain =
      typeof id === 'string'
        ? domainById(id)
        : typeof name === 'string'
          ? accounts.domains.find((candidate) => candidate.name === name)
          : DEFAULT_DOMAIN; // Names without a domain mean the default domain (OS_*_DOMAIN_NAME unset).
    if (!domain) throw unauthorized();
    return domain;
  };
  const domainView = (id: string) => ({ id, name: domainById(id)?.name ?? id });

  /** A user or project of an auth request: by id, or by name within its domain. */
  const findByRef = <T extends AccountUser | AccountProject>(candidates: readonly T[], ref: unknown): T => {
    const { id, name, domain } = (ref ?? {}) as { id?: unknown; name?: unknown; domain?: unknown };
    const found =
      typeof id === 'string'
        ? candidates.find((candidate) => candidate.id === id)
        : typeof name === 'string'
          ? candidates.find((c) => c.name === name && c.domain_id === domainRef(domain).id)
          : undefined;
    if (!found) throw unauthorized();
    return found;
  };
  const findUser = (ref: unknown): AccountUser => findByRef(accounts.users, ref);
  const findProject = (ref: unknown): AccountProject => findByRef(accounts.projects, ref);

  const userView = (id: string) => {
    const user = accounts.users.find((candidate) => candidate.id === id);
    const domainId = user?.domain_id ?? DEFAULT_DOMAIN.id;
    return { id, name: user?.name ?? id, domain: domainView(domainId), password_expires_at: null };
  };
  const projectView = (id: string) => {
    const project = accounts.projects.find((candidate) => candidate.id === id);
    return { id, name: project?.name ?? id, domain: domainView(project?.domain_id ?? DEFAULT_DOMAIN.id) };
  };
  const projectResource = (project: AccountProject) => ({
    id: project.id,
    name: project.name,
    domain_id: project.domain_id,
    description: '',
    enabled: true,
    is_domain: false,
    parent_id: project.domain_id,
    tags: [],
    options: {},
    links: { self: `${baseUrl}/v3/projects/${project.id}` },
  });
  const userResource = (user: AccountUser) => ({
    id: user.id,
    name: user.name,
    domain_id: user.domain_id,
    enabled: true,
    password_expires_at: null,
    options: {},
    links: { self: `${baseUrl}/v3/users/${user.id}` },
  });
  const domainResource = (domain: { id: string; name: string }) => ({
    id: domain.id,
    name: domain.name,
    description: '',
    enabled: true,
    tags: [],
    options: {},
    links: { self: `${baseUrl}/v3/domains/${domain.id}` },
  });

  const catalog = () => {
    const endpoints = (url: string, service: string) =>
      ['public', 'internal', 'admin'].map((iface) => ({
        id: stableId(`endpoint:${service}`, iface),
        interface: iface,
        region: accounts.region,
        region_id: accounts.region,
        url,
      }));
    return [
      {
        id: stableId('service', 'image'),
        type: 'image',
        name: 'glance',
        endpoints: endpoints(options.imageUrl, 'image'),
      },
      {
        id: stableId('service', 'identity'),
        type: 'identity',
        name: 'keystone',
        endpoints: endpoints(baseUrl, 'identity'),
      },
    ];
  };

  const tokenBody = (claims: TokenClaims, withCatalog: boolean) => ({
    token: {
      methods: claims.methods,
      user: userView(claims.userId),
      audit_ids: [claims.auditId],
      expires_at: keystoneTime(claims.expiresAt),
      issued_at: keystoneTime(claims.issuedAt),
      ...(claims.projectId !== undefined && {
        project: projectView(claims.projectId),
        is_domain: false,
        roles: claims.roles.map((name) => ({ id: stableId('role', name), name })),
        ...(withCatalog && { catalog: catalog() }),
      }),
    },
  });

  /** Verifies a token: signature, expiry, revocation. Any failure is `undefined`. */
  const readToken = async (token: string | undefined): Promise<TokenClaims | undefined> => {
    if (!token) return undefined;
    const revokedUntil = revoked.get(hashOf(token));
    if (revokedUntil !== undefined) return undefined;
    try {
      const payload = await verifyToken(token, publicKey, {
        issuer: LOCAL_ISSUER,
        audience: LOCAL_AUDIENCE,
      });
      const roles = payload[CLAIMS.roles];
      const projectId = payload[CLAIMS.project];
      const methods = payload.openstack_methods;
      if (typeof payload.sub !== 'string' || payload.exp === undefined) return undefined;
      return {
        userId: payload.sub,
        projectId: typeof projectId === 'string' && projectId !== '' ? projectId : undefined,
        roles: Array.isArray(roles) ? roles.map(String) : [],
        methods: Array.isArray(methods) ? methods.map(String) : ['password'],
        auditId: typeof payload.jti === 'string' ? payload.jti : hashOf(token).slice(0, 22),
        issuedAt: new Date((payload.iat ?? payload.exp) * 1000),
        expiresAt: new Date(payload.exp * 1000),
      };
    } catch {
      return undefined;
    }
  };

  const issue = async (body: unknown, withCatalog: boolean) => {
    const auth = (body as { auth?: Record<string, unknown> } | undefined)?.auth;
    const identity = auth?.identity as Record<string, unknown> | undefined;
    const methods = identity?.methods;
    if (!Array.isArray(methods) || methods.length === 0)
      throw badRequest('auth.identity.methods is required.');
    let user: { id: string; roles: Record<string, string[]> };
    let notAfter = Number.POSITIVE_INFINITY;
    if (methods.includes('password')) {
      const given = (identity?.password as { user?: Record<string, unknown> } | undefined)?.user;
      const found = findUser(given);
      const password = typeof given?.password === 'string' ? given.password : '';
      const expected = Buffer.from(found.password);
      const actual = Buffer.from(password);
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw unauthorized();
      user = found;
    } else if (methods.includes('token')) {
      const original = await readToken((identity?.token as { id?: string } | undefined)?.id);
      if (!original) throw unauthorized();
      user = accounts.users.find((candidate) => candidate.id === original.userId) ?? {
        id: original.userId,
        roles: {},
      };
      notAfter = original.expiresAt.getTime();
    } else {
      throw unauthorized();
    }
    const scope = auth?.scope as Record<string, unknown> | undefined;
    let projectId: string | undefined;
    let roles: string[] = [];
    if (scope?.project !== undefined) {
      const project = findProject(scope.project);
      roles = withImpliedRoles(user.roles[project.name] ?? []);
      if (roles.length === 0) throw unauthorized();
      projectId = project.id;
    } else if (scope !== undefined) {
      throw badRequest('Only project scope is served by the local identity service.');
    }
    const lifetime = Math.min(accounts.token_lifetime_seconds, Math.floor((notAfter - Date.now()) / 1000));
    if (lifetime <= 0) throw unauthorized();
    const auditId = randomBytes(16).toString('base64url');
    const token = await signToken(keys, {
      user: user.id,
      project: projectId ?? '',
      roles,
      expiresIn: lifetime,
      extra: { openstack_methods: methods.map(String), jti: auditId },
    });
    const claims = await readToken(token);
    if (!claims) throw new Error('a freshly signed token did not verify');
    return { token, body: tokenBody(claims, withCatalog) };
  };

  /** The caller's token: required for everything but discovery and login. */
  const caller = async (req: IncomingMessage) => {
    const claims = await readToken(header(req, 'x-auth-token'));
    if (!claims) throw unauthorized();
    return claims;
  };
  const isPrivileged = (claims: TokenClaims) =>
    claims.roles.includes('admin') || claims.roles.includes('service');

  const versions = () => ({
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${baseUrl}/v3/` }],
    'media-types': [MEDIA_TYPE],
  });

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const query = url.searchParams;
    const read = method === 'GET' || method === 'HEAD';

    if (path === '/' && read) return send(res, 300, { versions: { values: [versions()] } }, method);
    if (path === '/v3' && read) return send(res, 200, { version: versions() }, method);

    if (path === '/v3/auth/tokens') {
      if (method === 'POST') {
        const { token, body } = await issue(await readJson(req), !query.has('nocatalog'));
        res.setHeader('X-Subject-Token', token);
        return send(res, 201, body);
      }
      const claims = await caller(req);
      const subjectToken = header(req, 'x-subject-token');
      const subject = await readToken(subjectToken);
      if (!subject || !subjectToken) throw notFound(`Could not find token: ${subjectToken ?? ''}`);
      if (!isPrivileged(claims) && claims.userId !== subject.userId) throw forbidden();
      if (method === 'DELETE') {
        revoked.set(hashOf(subjectToken), subject.expiresAt.getTime());
        for (const [hash, until] of revoked) if (until < Date.now()) revoked.delete(hash);
        return send(res, 204, undefined);
      }
      if (!read) throw new KeystoneError(405, 'Method Not Allowed', 'The method is not allowed.');
      res.setHeader('X-Subject-Token', subjectToken);
      return send(res, 200, tokenBody(subject, !query.has('nocatalog')), method);
    }

    if (!read) throw new KeystoneError(405, 'Method Not Allowed', 'The local identity service is read-only.');
    const claims = await caller(req);
    const self = `${baseUrl}${path}`;
    const list = <T extends { name: string }>(items: T[]) =>
      items.filter((item) => !query.has('name') || item.name === query.get('name'));
    const domainFilter = <T extends { domain_id: string }>(items: T[]) =>
      items.filter((item) => !query.has('domain_id') || item.domain_id === query.get('domain_id'));
    const visibleProjects = () =>
      accounts.projects.filter(
        (project) =>
          isPrivileged(claims) ||
          project.id === claims.projectId ||
          accounts.users.some((user) => user.id === claims.userId && user.roles[project.name]?.length),
      );
    const userProjects = (userId: string) =>
      accounts.projects.filter((project) =>
        accounts.users.some((user) => user.id === userId && user.roles[project.name]?.length),
      );

    if (path === '/v3/auth/catalog') return send(res, 200, { catalog: catalog(), links: { self } }, method);
    if (path === '/v3/auth/projects') {
      return send(
        res,
        200,
        { projects: userProjects(claims.userId).map(projectResource), links: { self } },
        method,
      );
    }
    if (path === '/v3/auth/domains') return send(res, 200, { domains: [], links: { self } }, method);
    if (path === '/v3/auth/system') return send(res, 200, { system: [], links: { self } }, method);
    // Keystone's default policy: listing is for admins; reading one is for admins and its members
    // (403 otherwise, which the openstack CLI takes as "use the given id as it is").
    if (path === '/v3/projects') {
      if (!isPrivileged(claims)) throw forbidden();
      const projects = domainFilter(list(accounts.projects));
      return send(res, 200, { projects: projects.map(projectResource), links: { self } }, method);
    }
    let match = /^\/v3\/projects\/([^/]+)$/.exec(path);
    if (match) {
      const project = accounts.projects.find((candidate) => candidate.id === match?.[1]);
      if (!project) throw notFound(`Could not find project: ${match[1]}.`);
      if (!visibleProjects().includes(project)) throw forbidden();
      return send(res, 200, { project: projectResource(project) }, method);
    }
    if (path === '/v3/users') {
      if (!isPrivileged(claims)) throw forbidden();
      const users = domainFilter(list(accounts.users));
      return send(res, 200, { users: users.map(userResource), links: { self } }, method);
    }
    match = /^\/v3\/users\/([^/]+)(\/projects)?$/.exec(path);
    if (match) {
      const user = accounts.users.find((candidate) => candidate.id === match?.[1]);
      if (!user) throw notFound(`Could not find user: ${match[1]}.`);
      if (!isPrivileged(claims) && user.id !== claims.userId) throw forbidden();
      if (match[2]) {
        return send(
          res,
          200,
          { projects: userProjects(user.id).map(projectResource), links: { self } },
          method,
        );
      }
      return send(res, 200, { user: userResource(user) }, method);
    }
    if (path === '/v3/domains') {
      return send(res, 200, { domains: list(accounts.domains).map(domainResource), links: { self } }, method);
    }
    match = /^\/v3\/domains\/([^/]+)$/.exec(path);
    if (match) {
      const domain = domainById(match[1] ?? '');
      if (!domain) throw notFound(`Could not find domain: ${match[1]}.`);
      return send(res, 200, { domain: domainResource(domain) }, method);
    }
    throw notFound('The resource could not be found.');
  };

  const server = createServer((req, res) => {
    res.setHeader('Vary', 'X-Auth-Token');
    route(req, res).catch((error: unknown) => {
      if (error instanceof KeystoneError) {
        return send(res, error.status, {
          error: { code: error.status, title: error.title, message: error.message },
        });
      }
      console.error('local identity service failed', error);
      send(res, 500, {
        error: {
          code: 500,
          title: 'Internal Server Error',
          message: 'An unexpected error prevented the server from fulfilling your request.',
        },
      });
    });
  });
  server.listen(options.port ?? 0, host);
  await new Promise<void>((ready, fail) => server.once('listening', ready).once('error', fail));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: baseUrl,
    server,
    close: () =>
      new Promise<void>((done, fail) => {
        server.close((error) => (error ? fail(error) : done()));
        server.closeAllConnections();
      }),
  };
};

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
};

const readJson = async (req: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new KeystoneError(413, 'Request Entity Too Large', 'The request is too large.');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
};

const send = (res: ServerResponse, status: number, body: unknown, method = 'GET') => {
  res.statusCode = status;
  res.setHeader('x-openstack-request-id', `req-${randomUUID()}`);
  if (body === undefined) return void res.end();
  const text = JSON.stringify(body);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(method === 'HEAD' ? undefined : text);
};
