import fs from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { GlanceFunction, REPO_ROOT } from '#infra/constructs/glance-function';
import {
  COMPLETE_ENTRY,
  COMPLETE_MAX_EVENT_AGE_SECONDS,
  COMPLETING_ROUTES,
  DEFAULT_ACCOUNT_MEMORY_MB,
  FINALISE_ENTRY,
  SWEEP_ENTRY,
} from '#infra/functions';
import { DATA_ROUTE_GRANTS } from '#infra/grants';
import {
  knownPaths,
  methodNotAllowedEntry,
  notFoundEntry,
  pathNeedsToken,
  type Route,
  routes,
} from '#infra/routes';
import { quotaContextKey, ServerlessGlanceStack } from '#infra/stack';

const ISSUER = 'https://issuer.test/';
const AUDIENCE = 'glance-test';
const FALLBACKS = ['MethodNotAllowed', 'NotFound'];
const JWT_CONTEXT = {
  'serverless-glance:identityMode': 'jwt',
  'serverless-glance:jwtIssuer': ISSUER,
  'serverless-glance:jwtAudience': AUDIENCE,
};
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

type Resource = { Type: string; Properties: Record<string, unknown> };

const routeKey = (route: Route) => `${route.method} ${route.path}`;
const isDiscovery = (route: Route) =>
  !route.auth || ['GetSchema', 'GetMetadefSchema', 'GetImportInfo'].includes(route.name);
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
/** The stack and its nested stacks as one template: every resource, the stack's outputs. */
let template: Template;
let resources: Record<string, Resource>;
/** What the stack passes to its nested stacks' parameters, by parameter name. */
let nestedParameters: Record<string, unknown>;

beforeAll(() => {
  stack = synth(JWT_CONTEXT);
  const main = Template.fromStack(stack).toJSON();
  resources = { ...main.Resources };
  for (const nested of stack.api.nestedStacks.values()) {
    const nestedResources: Record<string, Resource> = Template.fromStack(nested).toJSON().Resources;
    for (const [id, resource] of Object.entries(nestedResources)) {
      if (resources[id]) throw new Error(`logical id ${id} is in two stacks`);
      resources[id] = resource;
    }
  }
  template = Template.fromJSON({ ...main, Resources: resources });
  nestedParameters = Object.assign(
    {},
    ...ofType('AWS::CloudFormation::Stack').map((nested) => nested.Properties.Parameters),
  );
});

it.each([
  ...routes.map((r) => r.entry),
  methodNotAllowedEntry,
  notFoundEntry,
  FINALISE_ENTRY,
  SWEEP_ENTRY,
  COMPLETE_ENTRY,
])('has the entry file %s', (entry) => {
  expect(fs.existsSync(join(REPO_ROOT, entry))).toBe(true);
});

const logicalId = (element: CfnElement | undefined) => {
  if (!element) throw new Error('construct has no CloudFormation resource');
  return Stack.of(element).getLogicalId(element);
};
/** A value as the stack itself writes it: a nested stack's parameters, at any depth, resolved to what they are given. */
const inMainStack = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(inMainStack);
  if (typeof value !== 'object' || value === null) return value;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === 'string' && Object.hasOwn(nestedParameters, ref)) return nestedParameters[ref];
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, inMainStack(inner)]));
};
const fn = (name: string) => {
  const found = stack.api.functions.get(name);
  if (!found) throw new Error(`no function ${name}`);
  return found;
};
const functionId = (name: string) => logicalId(fn(name).node.defaultChild as CfnElement);
const roleId = (name: string) => logicalId(fn(name).role?.node.defaultChild as CfnElement);

const ofType = (type: string) => Object.values(resources).filter((resource) => resource.Type === type);

/** Every function built as a GlanceFunction (API routes, fallbacks, data path, workflow...). */
const glanceFunctions = () => stack.node.findAll().filter((node) => node instanceof GlanceFunction);
const glanceFunctionIds = () =>
  new Set(glanceFunctions().map((f) => logicalId((f as GlanceFunction).node.defaultChild as CfnElement)));

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
    // Plus the functions of other constructs, and CDK's own handler for bucket notifications.
    template.resourceCountIs('AWS::Lambda::Function', glanceFunctions().length + 1);
    expect(glanceFunctions().length).toBeGreaterThanOrEqual(routes.length + FALLBACKS.length + 2);
    expect([...stack.api.functions.keys()].sort()).toEqual(
      [...routes.map((r) => r.name), ...FALLBACKS].sort(),
    );
  });

  it('builds every function with the shared defaults', () => {
    const ids = glanceFunctionIds();
    const others = Object.keys(resources).filter(
      (id) => resources[id]?.Type === 'AWS::Lambda::Function' && !ids.has(id),
    );
    expect(others).toEqual([expect.stringMatching(/^BucketNotificationsHandler/)]);
    const onlyGlance = Template.fromJSON({
      Resources: Object.fromEntries(Object.entries(resources).filter(([id]) => !others.includes(id))),
    });
    onlyGlance.allResourcesProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
      Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
    });
  });

  it('tells every function that touches data where the table and bucket are', () => {
    const publisher = logicalId(stack.events.publisher.node.defaultChild as CfnElement);
    const ids = [...glanceFunctionIds()].filter((id) => id !== publisher);
    expect(ids.length).toBeGreaterThan(routes.length);
    for (const id of ids) {
      const environment = resources[id]?.Properties.Environment as { Variables: Record<string, unknown> };
      const variables = environment.Variables;
      expect(inMainStack(variables.TABLE_NAME)).toEqual({
        Ref: logicalId(stack.data.table.node.defaultChild as CfnElement),
      });
      expect(inMainStack(variables.BUCKET_NAME)).toEqual({
        Ref: logicalId(stack.data.bucket.node.defaultChild as CfnElement),
      });
    }
  });

  it('asks for no more memory than every account accepts by default (3008 MB)', () => {
    for (const fn of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.MemorySize ?? 128).toBeLessThanOrEqual(DEFAULT_ACCOUNT_MEMORY_MB);
    }
  });

  it('gives each function its own log group kept for one month, as the state machine and the API access log', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', glanceFunctions().length + 2);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });
});

describe('service log groups', () => {
  /** A log group name as CloudFormation gets it: the stack's name, then the stack id's last part. */
  const vendedName = (prefix: string) => ({
    'Fn::Join': ['', [prefix, { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]],
  });

  it.each([
    ['state machine', () => stack.importWorkflow.stateMachine, '/aws/vendedlogs/states/TestStack-import-'],
    ['API access', () => stack.api.stage, '/aws/vendedlogs/apigateway/TestStack-access-'],
  ] as const)(
    'names the %s log group under /aws/vendedlogs/, after the stack and its id, and sends the logs there',
    (_, owner, prefix) => {
      const [id] = Object.entries(resources).find(
        ([, resource]) =>
          resource.Type === 'AWS::Logs::LogGroup' &&
          JSON.stringify(resource.Properties.LogGroupName) === JSON.stringify(vendedName(prefix)),
      ) ?? [''];
      expect(id).not.toBe('');
      const owning = resources[logicalId(owner().node.defaultChild as CfnElement)];
      expect(JSON.stringify(owning?.Properties)).toContain(`{"Fn::GetAtt":["${id}","Arn"]}`);
    },
  );
});

describe('quota limits from context', () => {
  /** The environment of every function of the main stack but CDK's own, by logical id. */
  const environments = (synthesized: ServerlessGlanceStack) =>
    Object.entries(Template.fromStack(synthesized).findResources('AWS::Lambda::Function'))
      .filter(([id]) => !id.startsWith('BucketNotificationsHandler'))
      .map(([id, resource]) => ({
        id,
        variables: (resource.Properties.Environment?.Variables ?? {}) as Record<string, unknown>,
      }));

  it('sets nothing when unset: every quota unlimited', () => {
    for (const { variables } of environments(stack)) {
      expect(Object.keys(variables).filter((name) => name.startsWith('GLANCE_QUOTA_'))).toEqual([]);
    }
  });

  it('gives every function of the stack the same limits: the API, the trigger, the sweeper, the workflow', () => {
    const synthesized = synth({
      ...JWT_CONTEXT,
      [quotaContextKey('image_size_total')]: 10,
      [quotaContextKey('image_count_total')]: '5',
      [quotaContextKey('image_stage_total')]: '',
    });
    const found = environments(synthesized);
    const ids = found.map(({ id }) => id).join(' ');
    for (const part of ['CreateImage', 'UploadImageData', 'ImportImage', 'GetUsage', 'Uploads', 'Workflow']) {
      expect(ids).toContain(part);
    }
    for (const { variables } of found) {
      expect(variables).toMatchObject({
        GLANCE_QUOTA_IMAGE_SIZE_TOTAL: '10',
        GLANCE_QUOTA_IMAGE_COUNT_TOTAL: '5',
      });
      expect(variables).not.toHaveProperty('GLANCE_QUOTA_IMAGE_STAGE_TOTAL');
      expect(variables).not.toHaveProperty('GLANCE_QUOTA_IMAGE_COUNT_UPLOADING');
    }
  });

  it.each([
    ['a negative limit', -1],
    ['a fraction', '1.5'],
    ['a word', 'lots'],
  ])('fails the synth on %s, naming the key', (_, value) => {
    expect(() => synth({ ...JWT_CONTEXT, [quotaContextKey('image_count_uploading')]: value })).toThrow(
      /CDK context "serverless-glance:quota:image_count_uploading" must be a non-negative integer \(images\)/,
    );
  });
});

describe('transition events (B2)', () => {
  it('streams new and old images of the table to the publisher, image items (not their history) and task items only', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack.events.publisher.node.defaultChild as CfnElement) },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              dynamodb: { Keys: { pk: { S: [{ prefix: 'IMAGE#' }] }, sk: { S: ['IMAGE'] } } },
            }),
          },
          { Pattern: JSON.stringify({ dynamodb: { Keys: { pk: { S: [{ prefix: 'TASK#' }] } } } }) },
        ],
      },
    });
  });

  it('lets the publisher put events and read the stream, and touch no data', () => {
    const role = logicalId(stack.events.publisher.role?.node.defaultChild as CfnElement);
    const policies = ofType('AWS::IAM::Policy').filter((policy) =>
      JSON.stringify(policy.Properties.Roles).includes(`"${role}"`),
    );
    const actions = policies.flatMap((policy) =>
      (policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap(
        (statement) => statement.Action,
      ),
    );
    expect(actions).toContain('events:PutEvents');
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:GetShardIterator']));
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']) {
      expect(actions).not.toContain(action);
    }
    expect(JSON.stringify(policies)).not.toMatch(/s3:/);
  });
});

describe('stacks', () => {
  it('keeps the stack and each nested stack well under the CloudFormation limit of 500 resources', () => {
    // The synth itself fails above 500; this leaves room for the next routes.
    const counts = [stack, ...stack.api.nestedStacks.values()].map(
      (each) => Object.keys(Template.fromStack(each).toJSON().Resources).length,
    );
    for (const count of counts) expect(count).toBeLessThanOrEqual(400);
  });

  it.each(
    routes.filter((route) => route.nestedStack).map((route) => [route.name, route.nestedStack] as const),
  )('%s lives in the nested stack %s, with its route', (name, nested) => {
    const nestedStack = stack.api.nestedStacks.get(nested ?? '');
    if (!nestedStack) throw new Error(`no nested stack ${nested}`);
    expect(Stack.of(fn(name))).toBe(nestedStack);
    const route = routes.find((candidate) => candidate.name === name);
    if (!route) throw new Error(`no route ${name}`);
    const routeKeys = (of: Stack) =>
      Object.values(Template.fromStack(of).toJSON().Resources as Record<string, Resource>)
        .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
        .map((resource) => resource.Properties.RouteKey);
    expect(routeKeys(nestedStack)).toContain(routeKey(route));
    expect(routeKeys(stack)).not.toContain(routeKey(route));
  });

  it('hands the nested stacks only resources of the main stack', () => {
    const mainResources = Object.keys(Template.fromStack(stack).toJSON().Resources);
    const values = Object.values(nestedParameters);
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) {
      const [id] = JSON.stringify(value).match(/(?<="(?:Ref|Fn::GetAtt)":\[?")[^"]+/) ?? [];
      expect(mainResources).toContain(id);
    }
  });

  it.each(routes.filter((route) => route.nestedStack && !isDiscovery(route)).map((route) => route.name))(
    "%s's grants name the main stack's table, through the nested stack's parameters",
    (name) => {
      const table = { 'Fn::GetAtt': [logicalId(stack.data.table.node.defaultChild as CfnElement), 'Arn'] };
      const granted = policiesOf(name).flatMap((policy) =>
        (
          policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }
        ).Statement
          // The other statement is the function's own log group, in the nested stack.
          .filter((statement) => JSON.stringify(statement.Action).includes('dynamodb:'))
          .flatMap((statement) => [statement.Resource].flat()),
      );
      // The table and each index by name (no `index/*`), all the main stack's.
      expect(granted.map(inMainStack)).toEqual([
        table,
        ...['gsi1', 'gsi2', 'gsi3'].map((index) => ({ 'Fn::Join': ['', [table, `/index/${index}`]] })),
      ]);
    },
  );
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

  it.each(knownPaths())(
    'ANY %s goes to the shared 405 function, behind the token check but on discovery paths',
    (path) => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `ANY ${path}`,
        AuthorizationType: pathNeedsToken(path) ? 'JWT' : 'NONE',
      });
      expect(functionBehind(`ANY ${path}`)).toBe(functionId('MethodNotAllowed'));
    },
  );

  /** API Gateway's invoke permissions, by the logical id of the function they let it invoke. */
  const apiPermissions = () => {
    const byFunction = new Map<string, Resource[]>();
    for (const permission of ofType('AWS::Lambda::Permission')) {
      if (permission.Properties.Principal !== 'apigateway.amazonaws.com') continue;
      const [id] = (permission.Properties.FunctionName as { 'Fn::GetAtt': [string] })['Fn::GetAtt'];
      byFunction.set(id, [...(byFunction.get(id) ?? []), permission]);
    }
    return byFunction;
  };

  it('lets API Gateway invoke the shared 405 function with one permission for the whole API, not one per route', () => {
    // One per ANY route would grow its resource policy towards Lambda's 20 KB limit with every new path.
    const permissions = apiPermissions().get(functionId('MethodNotAllowed')) ?? [];
    expect(permissions).toHaveLength(1);
    expect(JSON.stringify(permissions[0]?.Properties.SourceArn)).toContain(
      `{"Ref":"${logicalId(stack.api.httpApi.node.defaultChild as CfnElement)}"},"/*/*/*"]`,
    );
  });

  it('gives no function more than one API Gateway permission', () => {
    const permissions = apiPermissions();
    expect(permissions.size).toBe(routes.length + FALLBACKS.length);
    for (const [id, each] of permissions) expect(each, id).toHaveLength(1);
  });

  it('keeps the discovery paths open: GET / and /versions never need a token', () => {
    expect(pathNeedsToken('/')).toBe(false);
    expect(pathNeedsToken('/versions')).toBe(false);
    expect(pathNeedsToken('/v2/images')).toBe(true);
  });

  it('sends $default to the 404 function behind the token check, as Glance checks tokens before routing', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      AuthorizationType: 'JWT',
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
    expect(() => synth({ ...JWT_CONTEXT, 'serverless-glance:jwtIssuer': undefined })).toThrow(
      /serverless-glance:jwtIssuer/,
    );
  });
});

describe('data', () => {
  it('has an on-demand table with PITR, the three GSIs and TTL, retained', () => {
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
        GlobalSecondaryIndexes: ['gsi1', 'gsi2', 'gsi3'].map((name) => ({
          IndexName: name,
          KeySchema: [
            { AttributeName: `${name}pk`, KeyType: 'HASH' },
            { AttributeName: `${name}sk`, KeyType: 'RANGE' },
          ],
          // The sweeper's sparse pending-upload index only needs the keys.
          Projection: { ProjectionType: name === 'gsi3' ? 'KEYS_ONLY' : 'ALL' },
        })),
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
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
    for (const index of ['gsi1', 'gsi2', 'gsi3'])
      expect(JSON.stringify(policiesOf(name))).toContain(`/index/${index}`);
    expect(JSON.stringify(policiesOf(name))).not.toContain('/index/*');
  });

  it.each(writeRoutes.map((r) => r.name))('%s reads and writes the table', (name) => {
    expect(actionsOf(name)).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem']),
    );
  });

  it('never lets a function Scan the table', () => {
    for (const policy of ofType('AWS::IAM::Policy'))
      expect(JSON.stringify(policy)).not.toContain('dynamodb:Scan');
  });

  it.each([...routes.filter(isDiscovery).map((r) => r.name), ...FALLBACKS])(
    '%s has no data access at all',
    (name) => {
      expect(actionsOf(name).filter((action) => !action.startsWith('logs:'))).toEqual([]);
    },
  );

  it('lets every function write its own log group and no other (no AWSLambdaBasicExecutionRole)', () => {
    for (const fn of glanceFunctions() as GlanceFunction[]) {
      const role = logicalId(fn.role?.node.defaultChild as CfnElement);
      expect(JSON.stringify(resources[role]?.Properties.ManagedPolicyArns ?? [])).not.toContain(
        'AWSLambdaBasicExecutionRole',
      );
      const logStatements = ofType('AWS::IAM::Policy')
        .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${role}"`))
        .flatMap(
          (policy) =>
            (policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
              .Statement,
        )
        .filter((statement) => JSON.stringify(statement.Action).includes('logs:'));
      expect(logStatements).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logicalId(fn.logs.node.defaultChild as CfnElement), 'Arn'] },
        },
      ]);
    }
  });

  /** The S3 statements of a function's role: actions and resources, flattened. */
  const s3StatementsOf = (fnOrName: string | GlanceFunction) => {
    const role = logicalId(
      (typeof fnOrName === 'string' ? fn(fnOrName) : fnOrName).role?.node.defaultChild as CfnElement,
    );
    return ofType('AWS::IAM::Policy')
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${role}"`))
      .flatMap(
        (policy) =>
          (
            policy.Properties.PolicyDocument as {
              Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[];
            }
          ).Statement,
      )
      .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('s3:')));
  };
  /** The statements that let a function read the allowed location prefixes (docs/locations.md#configuration). */
  const isLocationRead = (statement: { Resource: unknown; Condition?: unknown }): boolean =>
    JSON.stringify(statement.Resource).includes('/locations/*') ||
    JSON.stringify(statement.Condition ?? null).includes('"locations/*"');
  const s3ActionsOf = (
    fnOrName: string | GlanceFunction,
    options: { locations: boolean } = { locations: true },
  ) =>
    s3StatementsOf(fnOrName)
      .filter((statement) => options.locations || !isLocationRead(statement))
      .flatMap((statement) => [statement.Action].flat())
      .sort();

  it('lets only the download function and the workflow’s Verify read locations: GetObject on the allowed prefix, ListBucket on its bucket without conditions', () => {
    const verify = stack.importWorkflow.functions.get('Verify');
    if (!verify) throw new Error('no Verify function');
    const readers = [fn('DownloadImageData'), verify];
    const all = [...routes.map((r) => fn(r.name)), ...stack.importWorkflow.functions.values()];
    const bucket = { 'Fn::GetAtt': [logicalId(stack.data.bucket.node.defaultChild as CfnElement), 'Arn'] };
    for (const candidate of all) {
      const reads = s3StatementsOf(candidate).filter(isLocationRead);
      if (!readers.includes(candidate)) {
        expect(reads).toEqual([]);
        continue;
      }
      expect(reads).toEqual([
        { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [bucket, '/locations/*']] } },
      ]);
      // A missing location answers 404, not 403 (infra/locations.ts): no s3:prefix condition.
      expect(s3StatementsOf(candidate)).toContainEqual({
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucket,
      });
    }
  });

  it.each([...routes.map((r) => r.name), ...FALLBACKS].filter((name) => !DATA_ROUTE_GRANTS[name]))(
    '%s has no S3 access',
    (name) => {
      expect(s3ActionsOf(name)).toEqual([]);
    },
  );

  it.each<[string, string[]]>([
    ['UploadImageData', ['s3:DeleteObject', 's3:PutObject']],
    ['StageImageData', ['s3:DeleteObject', 's3:PutObject']],
    ['DownloadImageData', ['s3:GetObject', 's3:ListBucket']],
    ['PresignImageUpload', ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject']],
    ['PresignImageStage', ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject']],
    ['CompleteImageUpload', ['s3:ListMultipartUploadParts']],
    ['CompleteImageStage', ['s3:ListMultipartUploadParts']],
    [
      'DeleteImage',
      ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:ListBucket', 's3:ListMultipartUploadParts'],
    ],
  ])('%s has exactly its S3 actions, on the data prefixes only', (name, actions) => {
    expect(s3ActionsOf(name, { locations: false })).toEqual(actions);
    for (const statement of s3StatementsOf(name).filter((statement) => !isLocationRead(statement))) {
      const text = JSON.stringify(statement.Resource);
      if ([statement.Action].flat().includes('s3:ListBucket')) {
        // Readers list the whole bucket, so a read of a missing key answers 404 and not 403.
        expect(statement.Condition).toEqual(
          actions.includes('s3:GetObject')
            ? undefined
            : { StringLike: { 's3:prefix': ['images/*', 'staging/*'] } },
        );
      } else {
        expect(text).toContain('/images/*');
        expect(text).toContain('/staging/*');
        expect(text).not.toMatch(/"\/\*"/);
      }
    }
  });

  it('lets the completion function list parts, complete (PutObject) or abort them, nothing else in S3, and write images', () => {
    expect(s3ActionsOf(stack.uploads.completer)).toEqual([
      's3:AbortMultipartUpload',
      's3:ListMultipartUploadParts',
      's3:PutObject',
    ]);
    const actions = s3StatementsOf(stack.uploads.completer).length;
    expect(actions).toBe(1);
    const role = logicalId(stack.uploads.completer.role?.node.defaultChild as CfnElement);
    const statements = ofType('AWS::IAM::Policy')
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${role}"`))
      .flatMap(
        (policy) => (policy.Properties.PolicyDocument as { Statement: { Action: unknown }[] }).Statement,
      );
    const all = statements.flatMap((statement) => [statement.Action].flat() as string[]);
    // A refused assembly sends the image back to queued, with its history entry and quota release.
    expect(all.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
    );
    expect(all).not.toContain('dynamodb:Scan');
  });

  it('lets exactly the complete routes invoke the completion function, on its unqualified ARN only', () => {
    const completer = logicalId(stack.uploads.completer.node.defaultChild as CfnElement);
    const invokers = ofType('AWS::IAM::Policy').filter((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('"lambda:InvokeFunction"'),
    );
    const rolesOf = (names: Iterable<string>) =>
      [...names].map((name) => ({ Ref: logicalId(fn(name).role?.node.defaultChild as CfnElement) }));
    const invokingRoles = invokers.flatMap((policy) => policy.Properties.Roles as unknown[]);
    for (const role of rolesOf(COMPLETING_ROUTES)) expect(invokingRoles).toContainEqual(role);
    for (const policy of invokers) {
      for (const statement of (
        policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }
      ).Statement) {
        if (statement.Action !== 'lambda:InvokeFunction') continue;
        if (JSON.stringify(statement.Resource).includes(`"${completer}"`)) {
          expect(statement.Resource).toEqual({ 'Fn::GetAtt': [completer, 'Arn'] });
        }
      }
    }
    for (const name of COMPLETING_ROUTES) {
      const environment = resources[logicalId(fn(name).node.defaultChild as CfnElement)]?.Properties
        .Environment as { Variables: Record<string, unknown> } | undefined;
      expect(environment?.Variables.COMPLETE_UPLOAD_FUNCTION).toEqual({ Ref: completer });
    }
  });

  it('lets the S3 trigger only read and delete objects, and the sweeper also abort uploads', () => {
    expect(s3ActionsOf(stack.uploads.finalise)).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:ListBucket']);
    expect(s3ActionsOf(stack.uploads.sweeper)).toEqual([
      's3:AbortMultipartUpload',
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:ListMultipartUploadParts',
    ]);
  });
});

describe('data path', () => {
  const finaliseId = () => logicalId(stack.uploads.finalise.node.defaultChild as CfnElement);
  const sweeperId = () => logicalId(stack.uploads.sweeper.node.defaultChild as CfnElement);

  it('sends ObjectCreated of the data and staging prefixes, and nothing else, to the finaliser', () => {
    const [notifications] = ofType('Custom::S3BucketNotifications');
    if (!notifications) throw new Error('no bucket notifications');
    const configs = (notifications.Properties.NotificationConfiguration as Record<string, unknown[]>)
      .LambdaFunctionConfigurations as { Events: string[]; Filter: unknown; LambdaFunctionArn: unknown }[];
    expect(configs).toHaveLength(2);
    expect(configs.map((config) => config.Filter)).toEqual(
      ['images/', 'staging/'].map((prefix) => ({
        Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] },
      })),
    );
    for (const config of configs) {
      expect(config.Events).toEqual(['s3:ObjectCreated:*']);
      expect(config.LambdaFunctionArn).toEqual({ 'Fn::GetAtt': [finaliseId(), 'Arn'] });
    }
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [finaliseId(), 'Arn'] },
    });
  });

  it('gives the finaliser the most memory a new account allows and 15 minutes, with two async retries', () => {
    expect(resources[finaliseId()]?.Properties).toMatchObject({ MemorySize: 3008, Timeout: 900 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: finaliseId() },
      MaximumRetryAttempts: 2,
    });
  });

  it('gives the completion function 15 minutes for S3 to assemble, two async retries, then its queue', () => {
    const completer = logicalId(stack.uploads.completer.node.defaultChild as CfnElement);
    expect(resources[completer]?.Properties).toMatchObject({ MemorySize: 256, Timeout: 900 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: completer },
      MaximumRetryAttempts: 2,
      // An upload's deadline is held past the last run a queued completion can get.
      MaximumEventAgeInSeconds: COMPLETE_MAX_EVENT_AGE_SECONDS,
      DestinationConfig: {
        OnFailure: {
          Destination: {
            'Fn::GetAtt': [logicalId(stack.uploads.completeFailures.node.defaultChild as CfnElement), 'Arn'],
          },
        },
      },
    });
  });

  it('runs the sweeper every 5 minutes', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [sweeperId(), 'Arn'] } })],
    });
  });

  it('aborts incomplete multipart uploads and expires staged data', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 }, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'staging/', ExpirationInDays: 30, Status: 'Enabled' }),
        ]),
      },
    });
  });
});

it('outputs the API URL, table name, bucket name and import state machine ARN', () => {
  expect(Object.keys(template.findOutputs('*')).sort()).toEqual([
    'ApiUrl',
    'BucketName',
    'ImportStateMachineArn',
    'TableName',
  ]);
});
