/**
 * The whole local stack for an integration test file: API adapter, dynalite and s3rver on
 * OS-chosen ports with throw-away storage, plus small request and token helpers.
 *
 *   let stack: TestStack;
 *   beforeAll(async () => { stack = await startTestStack(); });
 *   afterAll(() => stack.stop());
 *   const res = await stack.api('GET', '/v2/images', { token: await stack.tokenFor({ project: 'p1' }) });
 *
 * It sets `TABLE_NAME`, `AWS_ENDPOINT_URL_*` etc. in `process.env` (vitest gives each test file
 * its own worker). Handlers are imported by the adapter on first use, after that; do not import
 * modules that read the configuration at load time before `startTestStack` has resolved.
 */

import type { Accounts } from '#infra/local/keystone/accounts';
import type { S3AccessModel } from '#infra/local/s3-access';
import { type IdentityMode, type LocalStack, startLocalStack } from '#infra/local/stack';
import type { Route } from '#infra/routes';

export interface ApiOptions {
  /** Sent as `X-Auth-Token`. */
  readonly token?: string;
  /** A string or bytes are sent as they are; anything else as JSON (`application/json` unless a content-type header is given). */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body when it is JSON, else undefined. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields.
  readonly json: any;
}

export interface TestStack extends LocalStack {
  /** One request to the API through the local API Gateway. */
  api(method: string, path: string, options?: ApiOptions): Promise<ApiResponse>;
  /** A valid token; roles default to `member`, the user to `user-<project>`. */
  tokenFor(options: {
    project: string;
    roles?: readonly string[];
    user?: string;
    expiresIn?: string;
  }): Promise<string>;
}

export interface TestStackOptions {
  /** Defaults to infra/routes.ts; add fixture routes for adapter tests. */
  readonly routes?: readonly Route[];
  /** Loads the metadefs starter catalog, as `npm start` does. */
  readonly metadefsStarterCatalog?: boolean;
  /** `jwt` (the default) or `keystone` (a local Keystone and the Keystone authorizer). */
  readonly identity?: IdentityMode;
  /** Keystone mode: users and projects (default: fresh defaults). */
  readonly accounts?: Accounts;
  /** Keystone mode: the authorizer's validation cache lifetime (default 300 s). */
  readonly authorizerCacheSeconds?: number;
  /** What S3 tells the functions about missing keys (infra/local/s3-access.ts); defaults to the stack's grants. */
  readonly s3Access?: S3AccessModel;
}

/** Starts an in-memory stack on port 0; call `stop()` in `afterAll`. */
export const startTestStack = async (options: TestStackOptions = {}): Promise<TestStack> => {
  // One access line per request would drown the test output; warnings and errors still show.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const stack = await startLocalStack({ port: 0, persist: false, ...options });

  const api: TestStack['api'] = async (method, path, { token, body, headers = {} } = {}) => {
    const sent = new Headers(headers);
    if (token !== undefined) sent.set('x-auth-token', token);
    let payload: string | Uint8Array | undefined;
    if (typeof body === 'string' || body instanceof Uint8Array) payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      if (!sent.has('content-type')) sent.set('content-type', 'application/json');
    }
    const response = await fetch(`${stack.url}${path}`, { method, headers: sent, body: payload });
    const text = await response.text();
    let json: unknown;
    if (/json/.test(response.headers.get('content-type') ?? '') && text !== '') json = JSON.parse(text);
    return { status: response.status, headers: response.headers, text, json };
  };

  const tokenFor: TestStack['tokenFor'] = ({ project, roles = ['member'], user, expiresIn }) =>
    stack.signToken({ project, roles, user: user ?? `user-${project}`, expiresIn });

  return { ...stack, api, tokenFor };
};
