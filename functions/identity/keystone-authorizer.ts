/**
 * The HTTP API Lambda authorizer of identity mode `keystone` (payload 2.0, simple responses, no
 * API Gateway result cache): validates `X-Auth-Token` with Keystone and labels the request with
 * the outcome (shared/auth.ts `AuthorizerContext`). It never denies and never throws, so the
 * function answers a refused request with Glance's 401 or 503, never API Gateway's bare 403/500.
 * docs/identity.md#what-happens-on-a-request explains the mode; the local stack invokes this same
 * handler.
 */
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import type { AuthorizerContext } from '#shared/auth';
import { tokenFromHeaders } from '#shared/auth';
import { logger } from '#shared/logger';
import { keystoneClient, tokenValidations } from '#shared/runtime';

type Result = APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>;

const allow = (context: AuthorizerContext): Result => ({ isAuthorized: true, context });

export const handler = async (event: APIGatewayRequestAuthorizerEventV2): Promise<Result> => {
  const token = tokenFromHeaders(lowerCased(event.headers ?? {}));
  if (!token)
    return allow({ outcome: 'unauthenticated', message: 'Authentication required: no token was given.' });
  try {
    // Inside the try: a missing setting is logged and answered 503, like any other failure here.
    const validations = tokenValidations();
    let identity = validations.get(token);
    if (!identity) {
      const validation = await keystoneClient().validate(token);
      if (validation.kind === 'unavailable') {
        logger.error('token validation failed', { reason: validation.message, detail: validation.detail });
        return allow({ outcome: 'unavailable', message: `${validation.message} Try again later.` });
      }
      if (validation.kind === 'invalid')
        return allow({ outcome: 'unauthenticated', message: validation.message });
      identity = validation.identity;
      validations.set(token, identity);
    }
    return allow({
      outcome: 'authenticated',
      user_id: identity.userId,
      project_id: identity.projectId,
      roles: JSON.stringify(identity.roles),
      expires_at: identity.expiresAt.toISOString(),
    });
  } catch (error) {
    // A bug must not become API Gateway's 500 nor let the request through.
    logger.error('authorizer failed', { error: error as Error });
    return allow({ outcome: 'unavailable', message: 'The identity check failed. Try again later.' });
  }
};

/** Payload 2.0 headers are lower-cased already; this keeps a hand-made event honest too. */
const lowerCased = (headers: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
