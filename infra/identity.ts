/**
 * The deploy-time choice of identity mode (docs/identity.md#choosing-the-mode-cdk-context), read
 * from CDK context and checked before anything is built: a missing setting, or one still holding
 * the placeholder cdk.json ships, fails `cdk synth` with the key to set.
 */
import type { Node } from 'constructs';

export const IDENTITY_CONTEXT = {
  /** `keystone` or `jwt`. */
  mode: 'serverless-glance:identityMode',
  /** Keystone mode: the Keystone v3 endpoint the authorizer calls (`https://keystone.example.net:5000/v3`). */
  keystoneUrl: 'serverless-glance:keystoneUrl',
  /** Keystone mode: name or ARN of the Secrets Manager secret holding the service user's credentials. */
  keystoneServiceSecret: 'serverless-glance:keystoneServiceSecret',
  /** Keystone mode, optional: seconds a validated token is trusted without asking Keystone again (default 300). */
  keystoneCacheSeconds: 'serverless-glance:keystoneCacheSeconds',
  /** JWT mode: the issuer (`iss`), whose `/.well-known/openid-configuration` names its JWKS. */
  jwtIssuer: 'serverless-glance:jwtIssuer',
  /** JWT mode: the audience (`aud`) tokens must carry. */
  jwtAudience: 'serverless-glance:jwtAudience',
} as const;

export type IdentitySettings =
  | {
      readonly mode: 'keystone';
      readonly keystoneUrl: string;
      readonly serviceSecret: string;
      readonly cacheSeconds: number;
    }
  | { readonly mode: 'jwt'; readonly issuer: string; readonly audience: string };

/** Seconds a validation is cached by default: keystonemiddleware's `token_cache_time`. */
export const DEFAULT_KEYSTONE_CACHE_SECONDS = 300;

/**
 * Host names reserved for documentation (RFC 2606): cdk.json ships such URLs as placeholders, so
 * a deploy that forgot to set them fails here rather than with an authorizer that refuses every
 * token.
 */
const isPlaceholderHost = (host: string) =>
  /(^|\.)example\.(com|net|org)$/i.test(host) || /\.(example|invalid)$/i.test(host);

class IdentityConfigError extends Error {}

const fail = (key: string, problem: string): never => {
  throw new IdentityConfigError(
    `CDK context "${key}" ${problem} (set it in cdk.json or with -c ${key}=...; docs/identity.md#choosing-the-mode-cdk-context).`,
  );
};

const text = (node: Node, key: string): string => {
  const value: unknown = node.tryGetContext(key);
  if (typeof value !== 'string' || value.trim() === '') return fail(key, 'must be a non-empty string');
  return value.trim();
};

const url = (node: Node, key: string): string => {
  const value = text(node, key);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return fail(key, `must be an http(s) URL, not "${value}"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    fail(key, `must be an http(s) URL, not "${value}"`);
  if (isPlaceholderHost(parsed.hostname)) fail(key, `is still the placeholder "${value}"`);
  return value;
};

/** Reads and checks the identity settings of the chosen mode. */
export const identitySettings = (node: Node): IdentitySettings => {
  const mode = text(node, IDENTITY_CONTEXT.mode);
  if (mode === 'jwt') {
    return {
      mode,
      issuer: url(node, IDENTITY_CONTEXT.jwtIssuer),
      audience: text(node, IDENTITY_CONTEXT.jwtAudience),
    };
  }
  if (mode === 'keystone') {
    const cache: unknown = node.tryGetContext(IDENTITY_CONTEXT.keystoneCacheSeconds);
    const cacheSeconds = cache === undefined ? DEFAULT_KEYSTONE_CACHE_SECONDS : Number(cache);
    if (!Number.isSafeInteger(cacheSeconds) || cacheSeconds < 0 || cacheSeconds > 3600) {
      fail(IDENTITY_CONTEXT.keystoneCacheSeconds, 'must be a whole number of seconds from 0 to 3600');
    }
    return {
      mode,
      keystoneUrl: url(node, IDENTITY_CONTEXT.keystoneUrl),
      serviceSecret: text(node, IDENTITY_CONTEXT.keystoneServiceSecret),
      cacheSeconds,
    };
  }
  return fail(IDENTITY_CONTEXT.mode, `must be "keystone" or "jwt", not "${mode}"`);
};
