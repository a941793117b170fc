import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_CONTEXT } from '#infra/identity';
import { REPO_ROOT } from '#infra/local/lambda-runtime';
import { ServerlessGlanceStack } from '#infra/stack';

const KEYSTONE = {
  [IDENTITY_CONTEXT.mode]: 'keystone',
  [IDENTITY_CONTEXT.keystoneUrl]: 'https://keystone.cloud.test:5000/v3',
  [IDENTITY_CONTEXT.keystoneServiceSecret]: 'glance/keystone-service',
};
const JWT = {
  [IDENTITY_CONTEXT.mode]: 'jwt',
  [IDENTITY_CONTEXT.jwtIssuer]: 'https://issuer.test/',
  [IDENTITY_CONTEXT.jwtAudience]: 'glance-test',
};

const synth = (context: Record<string, unknown>) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return new ServerlessGlanceStack(app, 'IdentityTestStack');
};

describe('identity mode keystone', () => {
  let stack: ServerlessGlanceStack;
  let template: Template;
  beforeAll(() => {
    stack = synth({ ...KEYSTONE, [IDENTITY_CONTEXT.keystoneCacheSeconds]: 120 });
    template = Template.fromStack(stack);
  });

  it('puts a simple-response Lambda authorizer without identity source or result cache on the API', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    const [authorizer] = Object.values(template.findResources('AWS::ApiGatewayV2::Authorizer'));
    expect(authorizer?.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      AuthorizerResultTtlInSeconds: 0,
    });
    expect(authorizer?.Properties.IdentitySource ?? []).toEqual([]);
  });

  it('protects $default and the token routes with it', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      AuthorizationType: 'CUSTOM',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /v2/images',
      AuthorizationType: 'CUSTOM',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /',
      AuthorizationType: 'NONE',
    });
  });

  it('protects the routes of the nested stacks with the same authorizer, passed in from the stack', () => {
    const metadefs = stack.api.nestedStacks.get('Metadefs');
    if (!metadefs) throw new Error('no Metadefs nested stack');
    const nested = Template.fromStack(metadefs);
    nested.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    nested.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /v2/metadefs/namespaces',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: Match.stringLikeRegexp('HttpApiGlanceKeystone') },
    });
  });

  it('gives the authorizer its Keystone settings and read access to the service secret only', () => {
    const fn = stack.api.keystoneAuthorizer;
    expect(fn).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          KEYSTONE_URL: 'https://keystone.cloud.test:5000/v3',
          KEYSTONE_SERVICE_SECRET: 'glance/keystone-service',
          KEYSTONE_CACHE_SECONDS: '120',
        }),
      },
      Timeout: 10,
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const secretStatements = policies
      .flatMap(
        (policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[],
      )
      .filter((statement) => JSON.stringify(statement.Action).includes('secretsmanager:'));
    expect(secretStatements).toHaveLength(1);
    expect(JSON.stringify(secretStatements[0]?.Resource)).toContain('secret:glance/keystone-service-??????');
  });

  it('gives the authorizer the per-function and observability settings that name it, like every function', () => {
    const tuned = synth({
      ...KEYSTONE,
      'serverless-glance:memoryMb': { KeystoneAuthorizer: 512 },
      'serverless-glance:timeoutSeconds': { KeystoneAuthorizer: 6 },
      'serverless-glance:reservedConcurrency': { KeystoneAuthorizer: 3 },
      'serverless-glance:logLevel': 'DEBUG',
      'serverless-glance:metricsNamespace': 'GlanceTest',
      'serverless-glance:logRetentionDays': 90,
    });
    const fn = tuned.api.keystoneAuthorizer;
    if (!fn) throw new Error('no Keystone authorizer');
    const resources = Template.fromStack(tuned).toJSON().Resources;
    expect(resources[tuned.getLogicalId(fn.node.defaultChild as CfnElement)].Properties).toMatchObject({
      MemorySize: 512,
      Timeout: 6,
      ReservedConcurrentExecutions: 3,
      Environment: {
        Variables: expect.objectContaining({
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
          POWERTOOLS_METRICS_NAMESPACE: 'GlanceTest',
          KEYSTONE_URL: 'https://keystone.cloud.test:5000/v3',
        }),
      },
    });
    expect(resources[tuned.getLogicalId(fn.logs.node.defaultChild as CfnElement)].Properties).toMatchObject({
      RetentionInDays: 90,
    });
  });

  it('refuses an authorizer timeout API Gateway would not wait for', () => {
    expect(() =>
      synth({ ...KEYSTONE, 'serverless-glance:timeoutSeconds': { KeystoneAuthorizer: 11 } }),
    ).toThrow(
      /"serverless-glance:timeoutSeconds" gives KeystoneAuthorizer 11: API Gateway waits at most 10 seconds/,
    );
  });

  it('takes a full secret ARN as it is', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:glance-svc-AbCdEf';
    const template = Template.fromStack(
      synth({ ...KEYSTONE, [IDENTITY_CONTEXT.keystoneServiceSecret]: arn }),
    );
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain(arn);
  });
});

describe('identity mode jwt', () => {
  it('puts the JWT authorizer on X-Auth-Token with issuer and audience', () => {
    const template = Template.fromStack(synth(JWT));
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.X-Auth-Token'],
      JwtConfiguration: { Issuer: 'https://issuer.test/', Audience: ['glance-test'] },
    });
  });
});

describe('synth fails with the key to set', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'no mode',
      { ...JWT, [IDENTITY_CONTEXT.mode]: undefined },
      /"serverless-glance:identityMode" must be a non-empty/,
    ],
    [
      'an unknown mode',
      { ...JWT, [IDENTITY_CONTEXT.mode]: 'ldap' },
      /identityMode" must be "keystone" or "jwt", not "ldap"/,
    ],
    ['no Keystone URL', { ...KEYSTONE, [IDENTITY_CONTEXT.keystoneUrl]: '' }, /serverless-glance:keystoneUrl/],
    [
      'a Keystone URL that is no URL',
      { ...KEYSTONE, [IDENTITY_CONTEXT.keystoneUrl]: 'keystone:5000' },
      /keystoneUrl" must be an http\(s\) URL/,
    ],
    [
      'no service secret',
      { ...KEYSTONE, [IDENTITY_CONTEXT.keystoneServiceSecret]: undefined },
      /keystoneServiceSecret/,
    ],
    [
      'a cache past an hour',
      { ...KEYSTONE, [IDENTITY_CONTEXT.keystoneCacheSeconds]: 7200 },
      /keystoneCacheSeconds/,
    ],
    ['no issuer', { ...JWT, [IDENTITY_CONTEXT.jwtIssuer]: undefined }, /serverless-glance:jwtIssuer/],
    ['no audience', { ...JWT, [IDENTITY_CONTEXT.jwtAudience]: ' ' }, /serverless-glance:jwtAudience/],
    [
      'a documentation issuer',
      { ...JWT, [IDENTITY_CONTEXT.jwtIssuer]: 'https://login.example.org/' },
      /jwtIssuer" is still the placeholder/,
    ],
  ])('%s', (_, context, message) => {
    expect(() => synth(context)).toThrow(message);
  });

  it.each(['keystone', 'jwt'])('with the placeholders cdk.json ships, in mode %s', (mode) => {
    const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8'));
    const context = { ...cdkJson.context, [IDENTITY_CONTEXT.mode]: mode };
    expect(() => synth(context)).toThrow(/is still the placeholder "https:\/\/(keystone|auth)\.example\.com/);
  });
});
