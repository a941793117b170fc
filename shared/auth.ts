/**
 * Identity (decision D8): a JWT carries the caller's user, project and roles. On AWS the HTTP
 * API JWT authorizer verifies it and hands the claims to the function in
 * `requestContext.authorizer.jwt.claims`; locally the API Gateway adapter verifies it with
 * `verifyToken` below and fills in the very same field. Handlers only ever read the claims.
 */
import { type JWTPayload, type JWTVerifyGetKey, jwtVerify, type KeyObject } from 'jose';
import { Unauthorized } from './errors.ts';

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
 * Roles as API Gateway delivers them: a JSON array when we verify locally, but the HTTP API
 * JWT authorizer flattens array claims into a string such as `[admin member]`.
 */
export const parseRoles = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.map(String).filter(Boolean);
  if (typeof value !== 'string') return [];
  return value
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((role) => role.trim())
    .filter(Boolean);
};

/** Builds the caller from verified claims; a token without user or project is refused. */
export const callerFromClaims = (claims: Record<string, unknown> | undefined): Caller => {
  const userId = claims?.[CLAIMS.user];
  const projectId = claims?.[CLAIMS.project];
  if (typeof userId !== 'string' || userId === '' || typeof projectId !== 'string' || projectId === '') {
    throw new Unauthorized('The token does not name a user and a project.');
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
