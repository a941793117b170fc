/**
 * The one way an API function is built: middy with the Lambda context on every log line, the
 * caller taken from the authorizer claims, and Glance-shaped error responses from one middleware.
 * A handler body only parses, calls the domain and returns a `Reply`.
 */
import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayEventRequestContextJWTAuthorizer,
  APIGatewayEventRequestContextLambdaAuthorizer,
  APIGatewayEventRequestContextV2WithAuthorizer,
  APIGatewayProxyEventV2WithRequestContext,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { type AuthorizerContext, type Caller, callerFromAuthorizer, refusalOf } from '#shared/auth';
import { BadRequest, type GlanceError, InternalError, isGlanceError } from '#shared/errors';
import { logger } from '#shared/logger';
import { BODY_LIMITS, type JsonLimits, parseJsonWithin } from './json-body.ts';

/** A payload v2 event from either authorizer (identity mode `jwt` or `keystone`); shared/auth.ts reads it. */
export type ApiEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2WithAuthorizer<
    | APIGatewayEventRequestContextJWTAuthorizer
    | APIGatewayEventRequestContextLambdaAuthorizer<AuthorizerContext>
  >
>;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** What a handler sees: the event, decoded once. */
export interface Request {
  readonly event: ApiEvent;
  readonly caller: Caller;
  readonly path: Readonly<Record<string, string>>;
  /** All query values, repeated keys kept (Glance repeats `tag`, `sort_key`, `sort_dir`). */
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Raw body bytes (empty when there is none). */
  readonly body: Buffer;
  /** Glance's request id of this request (`req-<uuid>`), as sent in `x-openstack-request-id`. */
  readonly requestId: string;
}

/** What a handler returns; `body`, when given, is serialized as JSON. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export const reply = (status: number, body?: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body,
  headers,
});

const JSON_TYPE = 'application/json; charset=UTF-8';

export const toResult = ({ status, body, headers }: Reply): ApiResult => {
  if (body === undefined) return { statusCode: status, headers: { ...headers }, body: '' };
  return {
    statusCode: status,
    headers: { 'Content-Type': JSON_TYPE, ...headers },
    body: JSON.stringify(body),
  };
};

export const errorResult = (error: GlanceError): ApiResult =>
  toResult({ status: error.status, body: error.toBody(), headers: error.headers });

/**
 * Header names in lower case. HTTP API's payload v2 already lower-cases them (and the local
 * adapter does as API Gateway does); a handler invoked any other way still reads them the same.
 */
const lowerCaseHeaders = (headers: ApiEvent['headers'] | undefined): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));

/** API Gateway base64-encodes binary bodies and passes text as it is. */
const decodeBody = (event: ApiEvent): Buffer => {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
};

export interface HandlerOptions {
  /**
   * False for the discovery documents Glance serves without a token. `'deferred'`: no caller, and
   * a refusal of the authorizer is the handler's to answer (`$default` negotiates the API version
   * first, as Glance does before authenticating).
   */
  readonly auth?: boolean | 'deferred';
}

const ANONYMOUS: Caller = { userId: '', projectId: '', roles: [], isAdmin: false };

/** The form of Glance's request ids (oslo.middleware): `req-` and a lower-case UUID. */
export const REQUEST_ID_FORM = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_FORM = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Request ids by event, from the middleware to the handler body. */
const requestIdsByEvent = new WeakMap<object, string>();

/**
 * Glance's `x-openstack-request-id`: every response carries a fresh `req-<uuid>` (the Lambda
 * request id when it is a UUID, so one id finds the function's logs). A caller's own id is kept
 * as `global_request_id` only in that exact form (anything else could forge or flood log fields),
 * as oslo.middleware does. Both go on every log line of the request, plus one access line.
 */
const requestIds = (): middy.MiddlewareObj<ApiEvent, ApiResult, Error, Context> => {
  const ids = requestIdsByEvent;
  const finish = (request: middy.Request<ApiEvent, ApiResult, Error, Context>) => {
    const id = ids.get(request.event) ?? `req-${randomUUID()}`;
    if (request.response) {
      request.response = {
        ...request.response,
        headers: { ...request.response.headers, 'x-openstack-request-id': id },
      };
    }
    logger.info('request', {
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
      status: request.response?.statusCode,
    });
    logger.removeKeys(['request_id', 'global_request_id']);
  };
  return {
    before: (request) => {
      const lambdaId = request.context?.awsRequestId;
      const id = `req-${lambdaId && UUID_FORM.test(lambdaId) ? lambdaId : randomUUID()}`;
      ids.set(request.event, id);
      const incoming = lowerCaseHeaders(request.event.headers)['x-openstack-request-id'];
      logger.appendKeys({
        request_id: id,
        global_request_id: incoming && REQUEST_ID_FORM.test(incoming) ? incoming : undefined,
      });
    },
    after: finish,
    onError: finish,
  };
};

/** Maps every error to a response; unknown errors become a 500 without their details. */
const glanceErrors = (): middy.MiddlewareObj<ApiEvent, ApiResult> => ({
  onError: async (request) => {
    const { error } = request;
    if (isGlanceError(error)) {
      if (error.status >= 500) logger.error('request failed', { error });
      request.response = errorResult(error);
      return;
    }
    logger.error('unexpected error', { error: error as Error });
    request.response = errorResult(new InternalError({ cause: error }));
  },
});

/** Wraps a handler body into a Lambda handler for API Gateway HTTP API (payload v2). */
export const apiHandler = (fn: (request: Request) => Promise<Reply>, options: HandlerOptions = {}) =>
  middy<ApiEvent, ApiResult, Error, Context>()
    // The Lambda context and API Gateway's request id (the access log's) on every line.
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(requestIds())
    .use(glanceErrors())
    .handler(async (event) => {
      logger.appendKeys({ api_request_id: event.requestContext?.requestId });
      const { authorizer } = event.requestContext;
      if (options.auth === false || options.auth === 'deferred') {
        // The fallbacks behind an authorizer still answer its 401 or 503 first.
        const refusal = options.auth === false ? refusalOf(authorizer) : undefined;
        if (refusal) throw refusal;
      }
      const caller =
        options.auth === true || options.auth === undefined ? callerFromAuthorizer(authorizer) : ANONYMOUS;
      const request: Request = {
        event,
        caller,
        path: (event.pathParameters ?? {}) as Record<string, string>,
        query: new URLSearchParams(event.rawQueryString ?? ''),
        headers: lowerCaseHeaders(event.headers),
        body: decodeBody(event),
        requestId: requestIdsByEvent.get(event) ?? `req-${randomUUID()}`,
      };
      return toResult(await fn(request));
    });

/**
 * Parses a JSON body that must be an object: Glance answers 400 for malformed JSON and for
 * arrays or scalars where an object is expected. Limits as for `jsonBody`.
 */
export const jsonObjectBody = (request: Request, limits?: JsonLimits): Record<string, unknown> => {
  const value = jsonBody(request, limits);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequest('The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
};

/**
 * Parses any JSON body; malformed JSON, or a body over its limits (every body: `BODY_LIMITS`),
 * is a 400. The limits are checked on the raw text, before it is parsed.
 */
export const jsonBody = (request: Request, limits: JsonLimits = BODY_LIMITS): unknown =>
  parseJsonWithin(request.body, limits);

/** The public base URL the client used (API Gateway sets `x-forwarded-proto`; locally it is http). */
export const baseUrlOf = (request: Request): string => {
  const proto = request.headers['x-forwarded-proto']?.split(',')[0]?.trim() || 'http';
  const host = request.headers.host ?? request.event.requestContext.domainName;
  return `${proto}://${host}`;
};
