/**
 * Identity (decision D8), in one of two modes chosen at deploy time (docs/identity.md):
 *
 * - `keystone`: the Keystone authorizer (functions/identity/keystone-authorizer.ts) validates the
 *   `X-Auth-Token` with Keystone and hands the outcome to the function in
 *   `requestContext.authorizer.lambda` (`AuthorizerContext` below).
 * - `jwt`: the HTTP API JWT authorizer verifies a JWT and hands its claims over in
 *   `requestContext.authorizer.jwt.claims`; locally the API Gateway adapter verifies it with
 *   `verifyToken` below and fills in the very same field.
 *
 * Handlers only ever ask `callerFromAuthorizer`.
 */
import { type JWTPayload, type JWTVerifyGetKey, jwtVerify, type KeyObject } from 'jose';
import { type GlanceError, ServiceUnavailable, Unauthorized } from './errors.ts';

/** Who is calling, as the policy rules of docs/api.md#policy need it. */
export interface Caller {
  readonly userId: string;
  readonly projectId: string;
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
}

/** Claim names in our tokens. */
export const CLAIMS = { user: 'sub', project: 'project_id', roles: 'roles' } as const;

/**
 * Reads the token the way Glance clients send it: `X-Auth-Token`, or `Authorization: Bearer`.
 * Header names must already be lower-cased.
 */
export const tokenFromHeaders = (headers: Record<string, string | undefined>): string | undefined => {
  const direct = headers['x-auth-token']?.trim();
  if (direct) return direct;
  const authorization = headers.authorization?.trim();
  const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  return match?.[1];
};

/**
 * Roles of a JWT as API Gateway delivers them: the HTTP API JWT authorizer flattens an array
 * claim into a string such as `[admin member]`, so in JWT mode a role name cannot contain a space
 * or a comma. An issuer that needs such names can put the roles claim in as a JSON array string
 * (`'["a b","c"]'`), which is read exactly. Keystone mode has no such limit (`rolesFromJson`).
 */
export const parseRoles = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.map(String).filter(Boolean);
  if (typeof value !== 'string') return [];
  const exact = rolesFromJson(value);
  if (exact) return exact;
  return value
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((role) => role.trim())
    .filter(Boolean);
};

/**
 * Longest user or project id accepted, in characters (Keystone's are 64): both are recorded in
 * every history entry the caller causes, whose size the item budget bounds
 * (docs/configuration.md#item-budget).
 */
export const MAX_IDENTITY_LENGTH = 255;

/** Builds the caller from verified claims; a token without user or project, or with overlong ones, is refused. */
export const callerFromClaims = (claims: Record<string, unknown> | undefined): Caller => {
  const userId = claims?.[CLAIMS.user];
  const projectId = claims?.[CLAIMS.project];
  if (typeof userId !== 'string' || userId === '' || typeof projectId !== 'string' || projectId === '') {
    throw new Unauthorized('The token does not name a user and a project.');
  }
  if ([...userId].length > MAX_IDENTITY_LENGTH || [...projectId].length > MAX_IDENTITY_LENGTH) {
    throw new Unauthorized(
      `The token's user or project id is longer than ${MAX_IDENTITY_LENGTH} characters.`,
    );
  }
  const roles = parseRoles(claims?.[CLAIMS.roles]);
  return { userId, projectId, roles, isAdmin: roles.includes('admin') };
};

export interface VerifyOptions {
  readonly issuer: string;
  readonly audience: string;
}

/** Verifies signature, expiry, issuer and audience; any failure is a 401. */
export const verifyToken = async (
  token: string,
  key: KeyObject | Uint8Array | JWTVerifyGetKey,
  options: VerifyOptions,
): Promise<JWTPayload> => {
  try {
    // Two calls only because jose overloads key objects and key resolvers separately.
    const { payload } =
      typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
    return payload;
  } catch (cause) {
    throw new Unauthorized('The token is invalid or has expired.', { cause });
  }
};

/**
 * What the Keystone authorizer passes to the functions, as API Gateway context values (strings
 * only, so it reads the same whatever API Gateway does to nested values). The authorizer never
 * denies: it labels the request, and the one error middleware answers a refused one with a
 * Glance-shaped 401 or 503 before the handler body runs (API Gateway's own deny is a bare 403).
 */
export type AuthorizerContext =
  | {
      readonly outcome: 'authenticated';
      readonly user_id: string;
      readonly project_id: string;
      /** A JSON array of the exact role names of the token. */
      readonly roles: string;
      /** ISO 8601; the function refuses the request past it. */
      readonly expires_at: string;
    }
  | { readonly outcome: 'unauthenticated'; readonly message: string }
  | { readonly outcome: 'unavailable'; readonly message: string };

/** A JSON array of strings, or undefined for anything else. */
export const rolesFromJson = (text: string): string[] | undefined => {
  if (!text.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every((role) => typeof role === 'string')) return value.filter(Boolean);
  } catch {
    // Not JSON: the caller decides what else the text may be.
  }
  return undefined;
};

/** The Lambda authorizer's context, when the request went through one. */
const lambdaContextOf = (authorizer: unknown): Record<string, unknown> | undefined => {
  const lambda = (authorizer as { lambda?: unknown } | undefined)?.lambda;
  return lambda !== null && typeof lambda === 'object' ? (lambda as Record<string, unknown>) : undefined;
};

/** The refusal the Keystone authorizer recorded, if any (the request must then go no further). */
export const refusalOf = (authorizer: unknown): GlanceError | undefined => {
  const context = lambdaContextOf(authorizer);
  if (!context || context.outcome === 'authenticated') return undefined;
  const message = typeof context.message === 'string' && context.message !== '' ? context.message : undefined;
  if (context.outcome === 'unavailable') {
    return new ServiceUnavailable(message ?? 'The identity service is unavailable; try again later.');
  }
  return new Unauthorized(message);
};

/**
 * The caller, from whichever authorizer ran: the Keystone authorizer's context or the JWT
 * authorizer's claims. Anything short of an authenticated, unexpired identity throws the 401 or
 * 503 to answer.
 */
export const callerFromAuthorizer = (authorizer: unknown, now = Date.now()): Caller => {
  const context = lambdaContextOf(authorizer);
  if (!context)
    return callerFromClaims((authorizer as { jwt?: { claims?: Record<string, unknown> } })?.jwt?.claims);
  const refusal = refusalOf(authorizer);
  if (refusal) throw refusal;
  const { user_id: userId, project_id: projectId, roles: rolesJson, expires_at: expiresAt } = context;
  const roles = typeof rolesJson === 'string' ? rolesFromJson(rolesJson) : undefined;
  const expiry = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
  if (
    typeof userId !== 'string' ||
    userId === '' ||
    typeof projectId !== 'string' ||
    projectId === '' ||
    !roles
  ) {
    throw new Unauthorized('The token does not name a user and a project.');
  }
  if (!(expiry > now)) throw new Unauthorized('The token has expired.');
  return { userId, projectId, roles, isAdmin: roles.includes('admin') };
};
