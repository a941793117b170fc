import { Duration, NestedStack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpJwtAuthorizer,
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { applyGrants, grantsFor } from '#infra/grants';
import type { IdentitySettings } from '#infra/identity';
import {
  keystoneAuthorizerEntry,
  knownPaths,
  methodNotAllowedEntry,
  notFoundEntry,
  pathNeedsToken,
  routes,
} from '#infra/routes';
import type { Data } from './data.ts';
import { dataEnvironment, type FunctionSettings, GlanceFunction } from './glance-function.ts';
import { vendedLogGroupName } from './log-names.ts';

export interface ApiProps {
  readonly data: Data;
  /** The identity mode and its settings (infra/identity.ts). */
  readonly identity: IdentitySettings;
  /** Memory, timeouts and environment from the settings. */
  readonly functions: FunctionSettings;
  /** Requests per second, and per burst, the stage lets through on each route (not all routes together). */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** How long the access log is kept. */
  readonly logRetention: RetentionDays;
}

/** One JSON line per request: who, what, how it ended, how long it took, and the authorizer's word. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  userAgent: '$context.identity.userAgent',
});

/** API Gateway waits at most 30 seconds for an integration; a function must answer before. */
export const API_MAX_TIMEOUT_SECONDS = 29;

/** API Gateway waits at most 10 seconds for a Lambda authorizer's answer. */
export const AUTHORIZER_MAX_TIMEOUT_SECONDS = 10;

/** The Keystone authorizer's function, by the name the per-function settings use. */
export const KEYSTONE_AUTHORIZER = 'KeystoneAuthorizer';

/** Glance clients authenticate with `X-Auth-Token`, not `Authorization`. */
export const TOKEN_HEADER_SOURCE = '$request.header.X-Auth-Token';

/**
 * The HTTP API, built from the route table in `infra/routes.ts`: one function and one route per
 * entry, behind the identity mode's authorizer unless the entry says `auth: false`. Every known
 * path also gets an `ANY` route to one shared 405 function (API Gateway prefers exact-method
 * routes), and anything else falls to `$default`, a Glance-shaped 404. As in Glance, where the token is checked before
 * routing, both fallbacks answer 401 without a token, except on the discovery paths.
 */
export class Api extends Construct {
  readonly httpApi: HttpApi;
  /** The `$default` stage: throttling and access logs. */
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** Route functions by route name, plus `MethodNotAllowed` and `NotFound`; for grants and tests. */
  readonly functions: ReadonlyMap<string, GlanceFunction>;
  /** Nested stacks holding the routes that name one (`Route.nestedStack`), by name. */
  readonly nestedStacks: ReadonlyMap<string, NestedStack>;
  /** Identity mode `keystone`: the Lambda authorizer's function. */
  readonly keystoneAuthorizer?: GlanceFunction;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { table, bucket } = props.data;
    const environment = dataEnvironment({ table, bucket });
    const functions = new Map<string, GlanceFunction>();
    const nestedStacks = new Map<string, NestedStack>();
    const scopeOf = (nested: string | undefined): Construct => {
      if (nested === undefined) return this;
      const existing = nestedStacks.get(nested) ?? new NestedStack(this, nested);
      nestedStacks.set(nested, existing);
      return existing;
    };
    const fn = (
      name: string,
      entry: string,
      defaults: { memoryMb?: number; timeoutSeconds?: number } = {},
      scope: Construct = this,
    ) => {
      const created = new GlanceFunction(
        scope,
        name,
        props.functions.propsFor(
          name,
          { entry, environment },
          {
            ...defaults,
            maxTimeoutSeconds: API_MAX_TIMEOUT_SECONDS,
            maxTimeoutReason: `API Gateway answers 503 after 30 seconds, so an API function may take at most ${API_MAX_TIMEOUT_SECONDS}`,
          },
        ),
      );
      functions.set(name, created);
      return created;
    };

    const { authorizer, keystoneAuthorizer } = this.authorizer(props.identity, props.functions);
    this.keystoneAuthorizer = keystoneAuthorizer;
    const noAuth = new HttpNoneAuthorizer();

    const notFound = fn('NotFound', notFoundEntry);
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'OpenStack Glance Image API v2',
      defaultIntegration: new HttpLambdaIntegration('NotFound', notFound),
      // Only `$default` takes this: every other route names its authorizer.
      defaultAuthorizer: authorizer,
      // The stage below: throttled, with access logs.
      createDefaultStage: false,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      logGroupName: vendedLogGroupName(this, 'apigateway', 'access'),
      retention: props.logRetention,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      // Default route throttling: a limit for each route on its own, not for the API as a whole
      // (reserved concurrency is what keeps executions for the data path: docs/deploying.md#capacity).
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });

    for (const route of routes) {
      const scope = scopeOf(route.nestedStack);
      const handler = fn(
        route.name,
        route.entry,
        { memoryMb: route.memoryMb, timeoutSeconds: route.timeoutSeconds },
        scope,
      );
      applyGrants(handler, grantsFor(route), props.data);
      const integration = new HttpLambdaIntegration(route.name, handler);
      if (scope === this) {
        this.httpApi.addRoutes({
          path: route.path,
          methods: [HttpMethod[route.method]],
          integration,
          authorizer: route.auth ? authorizer : noAuth,
        });
      } else {
        // Created in the nested stack (addRoutes would put it next to the API); its integration
        // and invoke permission follow the route there.
        new HttpRoute(scope, `${route.name}Route`, {
          httpApi: this.httpApi,
          routeKey: HttpRouteKey.with(route.path, HttpMethod[route.method]),
          integration,
          authorizer: route.auth ? authorizer : noAuth,
        });
      }
    }

    // One integration object, so API Gateway gets one integration shared by every ANY route, and
    // one invoke permission for the whole API: one per route would add a statement per path to
    // the function's resource policy, which Lambda caps at 20 KB.
    const methodNotAllowed = new HttpLambdaIntegration(
      'MethodNotAllowed',
      fn('MethodNotAllowed', methodNotAllowedEntry),
      { scopePermissionToRoute: false },
    );
    for (const path of knownPaths()) {
      this.httpApi.addRoutes({
        path,
        methods: [HttpMethod.ANY],
        integration: methodNotAllowed,
        authorizer: pathNeedsToken(path) ? authorizer : noAuth,
      });
    }

    this.functions = functions;
    this.nestedStacks = nestedStacks;
  }

  private authorizer(
    identity: IdentitySettings,
    functions: FunctionSettings,
  ): {
    authorizer: IHttpRouteAuthorizer;
    keystoneAuthorizer?: GlanceFunction;
  } {
    if (identity.mode === 'jwt') {
      const authorizer = new HttpJwtAuthorizer('GlanceJwt', identity.issuer, {
        jwtAudience: [identity.audience],
        identitySource: [TOKEN_HEADER_SOURCE],
      });
      return { authorizer };
    }
    const secret = identity.serviceSecret.startsWith('arn:')
      ? Secret.fromSecretCompleteArn(this, 'KeystoneServiceSecret', identity.serviceSecret)
      : Secret.fromSecretNameV2(this, 'KeystoneServiceSecret', identity.serviceSecret);
    // Named in the settings like every other function: memory, timeout, reservations, log level.
    const fn = new GlanceFunction(
      this,
      KEYSTONE_AUTHORIZER,
      functions.propsFor(
        KEYSTONE_AUTHORIZER,
        {
          entry: keystoneAuthorizerEntry,
          description: 'Validates X-Auth-Token with Keystone for the HTTP API',
          environment: {
            KEYSTONE_URL: identity.keystoneUrl,
            KEYSTONE_SERVICE_SECRET: identity.serviceSecret,
            KEYSTONE_CACHE_SECONDS: String(identity.cacheSeconds),
          },
        },
        {
          // Two Keystone calls of 3 s each fit.
          timeoutSeconds: AUTHORIZER_MAX_TIMEOUT_SECONDS,
          maxTimeoutSeconds: AUTHORIZER_MAX_TIMEOUT_SECONDS,
          maxTimeoutReason: `API Gateway waits at most ${AUTHORIZER_MAX_TIMEOUT_SECONDS} seconds for a Lambda authorizer`,
        },
      ),
    );
    secret.grantRead(fn);
    const authorizer = new HttpLambdaAuthorizer('GlanceKeystone', fn, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      // Invoked on every request, even without a token (so the 401 is Glance's), and never cached by
      // API Gateway, whose one fixed TTL could outlive a token: the authorizer caches in memory.
      identitySource: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    return { authorizer, keystoneAuthorizer: fn };
  }
}
