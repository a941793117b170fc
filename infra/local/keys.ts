/**
 * The local stand-in for the identity provider behind the HTTP API JWT authorizer: one ES256
 * key pair, kept in the data directory so `npm run token` and `npm start` sign and verify with
 * the same key, and tokens stay valid across restarts.
 */
import { createPublicKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { CLAIMS, verifyToken } from '#shared/auth';

/** `iss` of local tokens; a deployed authorizer trusts its own identity provider instead. */
export const LOCAL_ISSUER = 'serverless-glance-local';
/** `aud` of local tokens. */
export const LOCAL_AUDIENCE = 'serverless-glance';

/**
 * Where local state lives: `GLANCE_DATA_DIR`, else `.data/` at the repository root (git-ignored).
 * The server and the token CLI both use it, so they share one key pair.
 */
export const defaultDataDir = (): string =>
  process.env.GLANCE_DATA_DIR || fileURLToPath(new URL('../../.data', import.meta.url));

const ALG = 'ES256';
const KEY_FILE = 'jwt-keys.json';

export interface LocalKeys {
  readonly publicJwk: JWK;
  readonly privateJwk: JWK;
}

export interface TokenOptions {
  /** `sub`; defaults to `local-user`. */
  readonly user?: string;
  readonly project: string;
  readonly roles: readonly string[];
  /** A jose duration (`12h`, `30m`) or seconds; defaults to `12h`. */
  readonly expiresIn?: string | number;
  /** More claims (the local Keystone adds `openstack_methods` and `jti`). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Verifies a token as the JWT authorizer would and returns its claims; failures throw a 401 error. */
export type TokenVerifier = (token: string) => Promise<JWTPayload>;

const createKeys = async (): Promise<LocalKeys> => {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
  return { publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
};

/**
 * Reads `<dataDir>/jwt-keys.json`, creating it on first use; without a data dir the keys live
 * only in memory (tests).
 */
export const loadOrCreateKeys = async (dataDir?: string): Promise<LocalKeys> => {
  if (dataDir === undefined) return createKeys();
  const file = join(dataDir, KEY_FILE);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LocalKeys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const keys = await createKeys();
  try {
    // Exclusive create: when the server and the token CLI start together, the first writer wins
    // and the other reads its keys, so both sign and verify with one pair.
    await writeFile(file, `${JSON.stringify(keys, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    return keys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return JSON.parse(await readFile(file, 'utf8')) as LocalKeys;
  }
};

/** Signs a token carrying the claims the handlers read (`sub`, `project_id`, `roles`). */
export const signToken = (keys: LocalKeys, options: TokenOptions): Promise<string> => {
  const expiresIn = options.expiresIn ?? '12h';
  return new SignJWT({
    ...options.extra,
    [CLAIMS.project]: options.project,
    [CLAIMS.roles]: [...options.roles],
  })
    .setProtectedHeader({ alg: ALG })
    .setSubject(options.user ?? 'local-user')
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(typeof expiresIn === 'number' ? `${expiresIn}s` : expiresIn)
    .sign(keys.privateJwk);
};

/** Verified tokens kept at most; the oldest is dropped first. */
const VERIFIED_CACHE_SIZE = 1000;

/**
 * The verifier the local API Gateway uses in place of the HTTP API JWT authorizer. An ES256
 * signature check costs ~0.2 ms, so a token that verified is remembered until it expires, the
 * way API Gateway keeps authorizer cost out of the function.
 */
export const localVerifier = (keys: LocalKeys): TokenVerifier => {
  const publicKey = createPublicKey({ key: keys.publicJwk as Record<string, string>, format: 'jwk' });
  const verified = new Map<string, JWTPayload>();
  return async (token) => {
    const cached = verified.get(token);
    if (cached && (cached.exp === undefined || cached.exp * 1000 > Date.now())) return cached;
    verified.delete(token);
    const payload = await verifyToken(token, publicKey, { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE });
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string);
    verified.set(token, payload);
    return payload;
  };
};
