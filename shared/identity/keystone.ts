/**
 * Validating a Keystone token the way keystonemiddleware does for Glance: with a service token,
 * `GET /v3/auth/tokens` naming the token in `X-Subject-Token`. Nothing here knows about API
 * Gateway or AWS; the authorizer (functions/identity/keystone-authorizer.ts) wires it up.
 * docs/identity.md#the-service-user-and-its-secret has the deployment side.
 */
import { z } from 'zod';

/** Who the token belongs to, as the functions need it. */
export interface KeystoneIdentity {
  readonly userId: string;
  readonly projectId: string;
  /** Exact role names, in the order Keystone lists them. */
  readonly roles: readonly string[];
  readonly expiresAt: Date;
}

/**
 * A validation outcome. `invalid` is the client's fault (401); `unavailable` is ours or
 * Keystone's (503), and never cached.
 */
export type Validation =
  | { readonly kind: 'valid'; readonly identity: KeystoneIdentity }
  | { readonly kind: 'invalid'; readonly message: string }
  | {
      readonly kind: 'unavailable';
      /** For the client: says what failed, never how (no hosts, no secret names). */
      readonly message: string;
      /** For the logs. */
      readonly detail?: string;
    };

/**
 * The service user's credentials, as stored in the secret: a password user scoped to a project
 * (by names with their domains, or by ids), or an application credential.
 */
export const ServiceCredentials = z.union([
  z.object({
    application_credential_id: z.string().min(1),
    application_credential_secret: z.string().min(1),
  }),
  z
    .object({
      username: z.string().min(1).optional(),
      user_id: z.string().min(1).optional(),
      password: z.string().min(1),
      user_domain_name: z.string().min(1).optional(),
      user_domain_id: z.string().min(1).optional(),
      project_name: z.string().min(1).optional(),
      project_id: z.string().min(1).optional(),
      project_domain_name: z.string().min(1).optional(),
      project_domain_id: z.string().min(1).optional(),
    })
    .refine((c) => c.username !== undefined || c.user_id !== undefined, 'username or user_id is required')
    .refine(
      (c) => c.project_name !== undefined || c.project_id !== undefined,
      'project_name or project_id is required',
    ),
]);
export type ServiceCredentials = z.infer<typeof ServiceCredentials>;

export interface KeystoneClientOptions {
  /** The identity endpoint, with or without `/v3` (`https://keystone.example.net:5000/v3`). */
  readonly url: string;
  /** Reads the service credentials (from the secret); called again after Keystone refuses them. */
  readonly credentials: (options: { readonly fresh: boolean }) => Promise<unknown>;
  /** Per request to Keystone. */
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

/** Tokens longer than this are refused without asking Keystone (Fernet tokens are ~200 bytes, JWS ~700). */
export const MAX_TOKEN_LENGTH = 8192;
/** A service token is renewed this long before it expires. */
const SERVICE_TOKEN_MARGIN_MS = 60_000;

const Domain = z.object({ id: z.string(), name: z.string().optional() }).passthrough();
const TokenBody = z.object({
  token: z
    .object({
      expires_at: z.string(),
      user: z.object({ id: z.string().min(1), domain: Domain.optional() }).passthrough(),
      project: z
        .object({ id: z.string().min(1) })
        .passthrough()
        .optional(),
      roles: z.array(z.object({ name: z.string().min(1) }).passthrough()).optional(),
    })
    .passthrough(),
});

class KeystoneUnavailable extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

const INVALID = 'The token is invalid, has expired or has been revoked.';

export const identityUrl = (url: string): string => {
  const base = url.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? base : `${base}/v3`;
};

/** A header value fetch would refuse, or a token no Keystone issues: refused without a request. */
export const isMalformedToken = (token: string): boolean =>
  token.length > MAX_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token);

export class KeystoneClient {
  private readonly url: string;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  /** One service token at a time, shared by concurrent validations. */
  private serviceToken?: Promise<{ token: string; expiresAt: number }>;

  constructor(private readonly options: KeystoneClientOptions) {
    this.url = identityUrl(options.url);
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async validate(subject: string): Promise<Validation> {
    if (isMalformedToken(subject)) return { kind: 'invalid', message: INVALID };
    try {
      let answer = await this.check(subject, await this.service(false));
      if (answer.status === 401) {
        // The service token expired early or was revoked: one retry with fresh credentials.
        answer = await this.check(subject, await this.service(true));
        if (answer.status === 401) {
          this.serviceToken = undefined;
          return unavailable('The identity service refused the service credentials.');
        }
      }
      return this.outcome(answer);
    } catch (error) {
      if (error instanceof KeystoneUnavailable) return unavailable(error.message, error.detail);
      throw error;
    }
  }

  private outcome({ status, body }: { status: number; body: unknown }): Validation {
    if (status === 404 || status === 400) return { kind: 'invalid', message: INVALID };
    if (status === 403)
      return unavailable('The service user may not validate tokens (Keystone answered 403).');
    if (status !== 200) return unavailable(`The identity service answered HTTP ${status}.`);
    const parsed = TokenBody.safeParse(body);
    if (!parsed.success)
      return unavailable('The identity service answered with a token body it could not read.');
    const { token } = parsed.data;
    const expiresAt = new Date(token.expires_at);
    if (Number.isNaN(expiresAt.getTime())) {
      return unavailable('The identity service answered with a token body it could not read.');
    }
    if (expiresAt.getTime() <= this.now()) return { kind: 'invalid', message: INVALID };
    if (!token.project) {
      return { kind: 'invalid', message: 'The token is not scoped to a project; images belong to projects.' };
    }
    return {
      kind: 'valid',
      identity: {
        userId: token.user.id,
        projectId: token.project.id,
        roles: (token.roles ?? []).map((role) => role.name),
        expiresAt,
      },
    };
  }

  private async check(subject: string, serviceToken: string) {
    return this.request(`${this.url}/auth/tokens?nocatalog`, {
      method: 'GET',
      headers: { 'X-Auth-Token': serviceToken, 'X-Subject-Token': subject, Accept: 'application/json' },
    });
  }

  private async service(fresh: boolean): Promise<string> {
    if (fresh) this.serviceToken = undefined;
    const cached = this.serviceToken;
    if (cached) {
      const current = await cached.catch(() => undefined);
      if (current && current.expiresAt - SERVICE_TOKEN_MARGIN_MS > this.now()) return current.token;
      if (this.serviceToken === cached) this.serviceToken = undefined;
    }
    if (!this.serviceToken) {
      const issuing = this.issueServiceToken(fresh);
      this.serviceToken = issuing;
      issuing.catch(() => {
        if (this.serviceToken === issuing) this.serviceToken = undefined;
      });
    }
    return (await this.serviceToken).token;
  }

  private async issueServiceToken(fresh: boolean): Promise<{ token: string; expiresAt: number }> {
    let credentials: ServiceCredentials;
    try {
      credentials = ServiceCredentials.parse(await this.options.credentials({ fresh }));
    } catch (cause) {
      throw new KeystoneUnavailable(
        'The service credentials could not be read.',
        cause instanceof z.ZodError
          ? 'the secret does not hold valid service credentials'
          : (cause as Error).message,
      );
    }
    const { status, headers, body } = await this.request(`${this.url}/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(authRequest(credentials)),
    });
    const token = headers.get('x-subject-token');
    const parsed = TokenBody.safeParse(body);
    if (status === 401)
      throw new KeystoneUnavailable('The identity service refused the service credentials.');
    if (status !== 201 || !token || !parsed.success) {
      throw new KeystoneUnavailable(`The identity service answered HTTP ${status} to the service login.`);
    }
    return { token, expiresAt: Date.parse(parsed.data.token.expires_at) || this.now() };
  }

  private async request(url: string, init: RequestInit) {
    let response: Response;
    try {
      response = await this.fetch(url, { ...init, signal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (cause) {
      const reason =
        (cause as Error).name === 'TimeoutError' ? 'did not answer in time' : 'could not be reached';
      throw new KeystoneUnavailable(`The identity service ${reason}.`);
    }
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body };
  }
}

const unavailable = (message: string, detail?: string): Validation => ({
  kind: 'unavailable',
  message,
  detail,
});

const domainRef = (id: string | undefined, name: string | undefined) =>
  id !== undefined ? { id } : { name: name ?? 'Default' };

/** The v3 password (or application credential) request, scoped to the service project. */
const authRequest = (credentials: ServiceCredentials) => {
  if ('application_credential_id' in credentials) {
    return {
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: {
            id: credentials.application_credential_id,
            secret: credentials.application_credential_secret,
          },
        },
      },
    };
  }
  const user =
    credentials.user_id !== undefined
      ? { id: credentials.user_id, password: credentials.password }
      : {
          name: credentials.username,
          domain: domainRef(credentials.user_domain_id, credentials.user_domain_name),
          password: credentials.password,
        };
  const project =
    credentials.project_id !== undefined
      ? { id: credentials.project_id }
      : {
          name: credentials.project_name,
          domain: domainRef(credentials.project_domain_id, credentials.project_domain_name),
        };
  return { auth: { identity: { methods: ['password'], password: { user } }, scope: { project } } };
};
