import fs from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '#infra/constructs/glance-function';
import { knownPaths, methodNotAllowedEntry, notFoundEntry, type Route, routes } from '#infra/routes';
import { ServerlessGlanceStack } from '#infra/stack';

const ISSUER = 'https://issuer.test/';
const AUDIENCE = 'glance-test';
const FALLBACKS = ['MethodNotAllowed', 'NotFound'];
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

type Resource = { Type: string; Properties: Record<string, unknown> };

const routeKey = (route: Route) => `${route.method} ${route.path}`;
const isDiscovery = (route: Route) => !route.auth || ['GetSchema', 'GetImportInfo'].includes(route.name);
const tableRoutes = routes.filter((route) => !isDiscovery(route));
const isRead = (route: Route) => route.method === 'GET' || route.method === 'HEAD';
const readRoutes = tableRoutes.filter(isRead);
const writeRoutes = tableRoutes.filter((route) => !isRead(route));

const synth = (context: Record<string, unknown>) => {
  // No bundling: these tests check the template, not the code, so they stay fast.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return new ServerlessGlanceStack(app, 'TestStack');
};

let stack: ServerlessGlanceStack;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  // NodejsFunction insists that entry files exist even when bundling is skipped. Pretend the route
  // entries do, so this suite does not depend on handlers other people are still writing.
  const entries = new Set([...routes.map((r) => r.entry), methodNotAllowedEntry, notFoundEntry]);
  const fakeEntries = new Set([...entries].map((entry) => join(REPO_ROOT, entry)));
  const existsSync = fs.existsSync;
  vi.spyOn(fs, 'existsSync').mockImplementation((path) => fakeEntries.has(String(path)) || existsSync(path));

  stack = synth({ 'serverless-glance:jwtIssuer': ISSUER, 'serverless-glance:jwtAudience': AUDIENCE });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

afterAll(() => {
  vi.restoreAllMocks();
});

const logicalId = (element: CfnElement | undefined) => {
  if (!element) throw new Error('construct has no CloudFormation resource');
  return stack.getLogicalId(element);
};
const fn = (name: string) => {
  const found = stack.api.functions.get(name);
  if (!found) throw new Error(`no function ${name}`);
  return found;
};
const functionId = (name: string) => logicalId(fn(name).node.defaultChild as CfnElement);
const roleId = (name: string) => logicalId(fn(name).role?.node.defaultChild as CfnElement);

const ofType = (type: string) => Object.values(resources).filter((resource) => resource.Type === type);

/** Every IAM action granted to a function's role, across its inline policies. */
const policiesOf = (name: string) =>
  ofType('AWS::IAM::Policy').filter((policy) =>
    JSON.stringify(policy.Properties.Roles).includes(`"${roleId(name)}"`),
  );
const actionsOf = (name: string): string[] =>
  policiesOf(name).flatMap((policy) =>
    (policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap(
      (statement) => statement.Action,
    ),
  );

/** The function logical id behind a route key, following route → integration → Lambda ARN. */
const functionBehind = (key: string): string => {
  const route = ofType('AWS::ApiGatewayV2::Route').find((r) => r.Properties.RouteKey === key);
  if (!route) throw new Error(`no route ${key}`);
  const target = JSON.stringify(route.Properties.Target);
  const integrationId = /"Ref":"([^"]+)"/.exec(target)?.[1] ?? '';
  const uri = resources[integrationId]?.Properties.IntegrationUri as { 'Fn::GetAtt': [string] } | undefined;
  if (!uri) throw new Error(`no integration for ${key}`);
  return uri['Fn::GetAtt'][0];
};

describe('functions', () => {
  it('has one function per route plus the two fallbacks', () => {
    template.resourceCountIs('AWS::Lambda::Function', routes.length + FALLBACKS.length);
    expect([...stack.api.functions.keys()].sort()).toEqual(
      [...routes.map((r) => r.name), ...FALLBACKS].sort(),
    );
  });

  it('builds every function with the shared defaults', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          TABLE_NAME: { Ref: logicalId(stack.data.table.node.defaultChild as CfnElement) },
          BUCKET_NAME: { Ref: logicalId(stack.data.bucket.node.defaultChild as CfnElement) },
        },
      },
    });
  });

  it('gives each function its own log group kept for one month', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', routes.length + FALLBACKS.length);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });
});

describe('routes', () => {
  it('has exactly the route table, the ANY routes and $default', () => {
    const keys = ofType('AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey);
    const expected = [...routes.map(routeKey), ...knownPaths().map((path) => `ANY ${path}`), '$default'];
    expect(keys.sort()).toEqual(expected.sort());
  });

  it.each(routes.map((route) => ({ ...route, key: routeKey(route) })))(
    '$key goes to $name (auth: $auth, memory and timeout from the table)',
    (route) => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: route.key,
        AuthorizationType: route.auth ? 'JWT' : 'NONE',
        AuthorizerId: route.auth ? Match.anyValue() : Match.absent(),
      });
      expect(functionBehind(route.key)).toBe(functionId(route.name));
      expect(resources[functionId(route.name)]?.Properties).toMatchObject({
        MemorySize: route.memoryMb ?? 256,
        Timeout: route.timeoutSeconds ?? 10,
      });
    },
  );

  it.each(knownPaths())('ANY %s goes to the shared 405 function without auth', (path) => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: `ANY ${path}`,
      AuthorizationType: 'NONE',
    });
    expect(functionBehind(`ANY ${path}`)).toBe(functionId('MethodNotAllowed'));
  });

  it('sends $default to the 404 function without auth', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      AuthorizationType: 'NONE',
    });
    expect(functionBehind('$default')).toBe(functionId('NotFound'));
  });

  it('verifies tokens from X-Auth-Token with the issuer and audience from context', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.X-Auth-Token'],
      JwtConfiguration: { Issuer: ISSUER, Audience: [AUDIENCE] },
    });
  });

  it('fails the synth when the JWT context is missing', () => {
    expect(() => synth({ 'serverless-glance:jwtAudience': AUDIENCE })).toThrow(/serverless-glance:jwtIssuer/);
  });
});

describe('data', () => {
  it('has an on-demand table with PITR, both GSIs, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: ['gsi1', 'gsi2'].map((name) => ({
          IndexName: name,
          KeySchema: [
            { AttributeName: `${name}pk`, KeyType: 'HASH' },
            { AttributeName: `${name}sk`, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      },
    });
  });

  it('has an encrypted, private, unversioned bucket, retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: Match.absent(),
      },
    });
  });

  it('denies requests to the bucket without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('grants', () => {
  it.each(readRoutes.map((r) => r.name))('%s reads the table and its indexes, and cannot write', (name) => {
    const actions = actionsOf(name);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
    for (const action of WRITE_ACTIONS) expect(actions).not.toContain(action);
    expect(JSON.stringify(policiesOf(name))).toContain('/index/*');
  });

  it.each(writeRoutes.map((r) => r.name))('%s reads and writes the table', (name) => {
    expect(actionsOf(name)).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem']),
    );
  });

  it('never lets a function Scan the table', () => {
    for (const policy of ofType('AWS::IAM::Policy')) expect(JSON.stringify(policy)).not.toContain('dynamodb:Scan');
  });

  it.each([...routes.filter(isDiscovery).map((r) => r.name), ...FALLBACKS])(
    '%s has no data access at all',
    (name) => {
      expect(policiesOf(name)).toEqual([]);
    },
  );

  it('gives no function S3 access yet', () => {
    for (const policy of ofType('AWS::IAM::Policy')) expect(JSON.stringify(policy)).not.toMatch(/s3:/);
  });
});

it('outputs the API URL, table name and bucket name', () => {
  expect(Object.keys(template.findOutputs('*')).sort()).toEqual(['ApiUrl', 'BucketName', 'TableName']);
});
