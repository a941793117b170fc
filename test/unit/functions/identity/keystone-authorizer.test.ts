/**
 * The Keystone authorizer's contract without a Keystone: it never throws and never denies, so a
 * missing token or a broken deployment is answered by the function in Glance's shape (401, 503),
 * never by API Gateway's bare 403 or 500. The validation paths run against the local Keystone in
 * test/integration/local/keystone.test.ts.
 */
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const VARIABLES = ['KEYSTONE_URL', 'KEYSTONE_SERVICE_SECRET', 'POWERTOOLS_LOG_LEVEL'];
let saved: Record<string, string | undefined>;

beforeEach(() => {
  saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) delete process.env[name];
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** A fresh copy of the handler and of the runtime it reads its settings through. */
const freshHandler = async () => {
  vi.resetModules();
  return (await import('#functions/identity/keystone-authorizer')).handler;
};

const event = (headers: Record<string, string>) =>
  ({ headers }) as unknown as APIGatewayRequestAuthorizerEventV2;

describe('the Keystone authorizer', () => {
  it('labels a request without a token unauthenticated, asking nothing', async () => {
    const handler = await freshHandler();
    expect(await handler(event({}))).toEqual({
      isAuthorized: true,
      context: { outcome: 'unauthenticated', message: 'Authentication required: no token was given.' },
    });
  });

  it.each(['KEYSTONE_URL', 'KEYSTONE_SERVICE_SECRET'])(
    'labels a request unavailable (503) when %s is missing, never throwing',
    async (missing) => {
      Object.assign(process.env, { KEYSTONE_URL: 'https://keystone.test/v3', KEYSTONE_SERVICE_SECRET: 's' });
      delete process.env[missing];
      const handler = await freshHandler();
      expect(await handler(event({ 'X-Auth-Token': 'gAAAAAB-token' }))).toEqual({
        isAuthorized: true,
        context: { outcome: 'unavailable', message: 'The identity check failed. Try again later.' },
      });
    },
  );
});
