/**
 * Deploy-time settings (docs/deploying.md#settings): read from CDK context with the definitions of
 * shared/settings.ts, checked before anything is built, and handed to the functions in the
 * variables shared/config.ts reads back. Synthesized without bundling.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '#infra/constructs/glance-function';
import { IDENTITY_CONTEXT } from '#infra/identity';
import { CONTEXT_PREFIX, contextKey } from '#infra/settings';
import { ServerlessGlanceStack } from '#infra/stack';
import {
  readLocationSettings,
  readQuotaDefaults,
  readServiceConfig,
  readUploadSettings,
  uriFilterFromEnv,
} from '#shared/config';
import { parseSetting, SETTINGS, type Setting } from '#shared/settings';

const IDENTITY = {
  'serverless-glance:identityMode': 'jwt',
  'serverless-glance:jwtIssuer': 'https://idp.corp.net/',
  'serverless-glance:jwtAudience': 'glance',
};

const synth = (context: Record<string, unknown>) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...IDENTITY, ...context } });
  return new ServerlessGlanceStack(app, 'SettingsTest');
};

type Resource = { Type: string; Properties: Record<string, unknown> };
const functionsOf = (stack: ServerlessGlanceStack) =>
  Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, Resource>).filter(
    (resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Environment,
  );
const propsOf = (stack: ServerlessGlanceStack, fn: { node: { defaultChild?: unknown } }) =>
  (Template.fromStack(stack).toJSON().Resources as Record<string, Resource>)[
    stack.getLogicalId(fn.node.defaultChild as CfnElement)
  ]?.Properties;
const variablesOf = (resource: Resource) =>
  (resource.Properties.Environment as { Variables: Record<string, string> }).Variables;

const example = JSON.parse(readFileSync(join(REPO_ROOT, 'infra/cdk.context.example.json'), 'utf8')) as Record<
  string,
  unknown
>;

describe('the example context', () => {
  it('names every setting, the identity settings included (infra/identity.ts), and nothing else', () => {
    expect(Object.keys(example).sort()).toEqual(
      [...Object.values(SETTINGS).map(contextKey), ...Object.values(IDENTITY_CONTEXT)].sort(),
    );
  });

  it.each((Object.values(SETTINGS) as Setting[]).filter((s) => s.default !== undefined))(
    'gives $key its documented default',
    (setting) => {
      expect(parseSetting(setting, example[contextKey(setting)], true)).toEqual(
        parseSetting(setting, undefined),
      );
    },
  );

  it('cannot be deployed as it ships: the identity placeholders fail the synth, naming the key', () => {
    expect(() => synth({ ...example })).toThrow(/serverless-glance:keystoneUrl" is still the placeholder/);
    expect(() => synth({ ...example, 'serverless-glance:identityMode': 'jwt' })).toThrow(
      /serverless-glance:jwtIssuer" is still the placeholder/,
    );
  });
});

describe('the deploy walk-through', () => {
  const walkThrough = readFileSync(join(REPO_ROOT, 'docs/deploying.md'), 'utf8');
  it.each((Object.values(SETTINGS) as Setting[]).map((s) => [s.key, s.env ?? '–'] as const))(
    'names %s (variable %s) in its settings tables',
    (key, env) => {
      const row = walkThrough.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row, `docs/deploying.md has no row for ${key}`).toBeDefined();
      if (env !== '–') expect(row).toContain(`\`${env}\``);
    },
  );

  it.each(Object.values(IDENTITY_CONTEXT).map((key) => key.slice(CONTEXT_PREFIX.length)))(
    'names the identity setting %s',
    (key) => {
      expect(walkThrough.split('\n').some((line) => line.startsWith(`| \`${key}\` |`))).toBe(true);
    },
  );
});

describe('bad context fails the synth naming the key', () => {
  it.each<[string, unknown, RegExp]>([
    ['imageSizeCap', 'big', /must be an integer/],
    ['imageSizeCap', 0, /from 1 to/],
    ['imageSizeCap', { bytes: 1 }, /must be an integer/],
    ['uploadUrlSeconds', 3600, /from 1 to 900/],
    // 200 GiB: more than one 15-minute invocation verifies at the default 128 MiB/s.
    ['imageSizeCap', 214_748_364_800, /must be at most 112742891520, what one invocation verifies/],
    ['verifyBytesPerSecond', 1000, /must be an integer from 1048576/],
    ['imageMemberQuota', 501, /from 0 to 500/],
    ['imageFormatGptNonfatalChecks', ['gpt'], /GPT check \(mbr\)/],
    ['multipartPartSizeBytes', 100000, /from 5242880/],
    ['delayedDelete', 'yes', /true or false/],
    ['importAllowedPorts', ['http'], /port/],
    ['importAllowedNetworks', '10.0.0.0/33', /CIDR/],
    ['logRetentionDays', 31, /one of/],
    ['logLevel', 'LOUD', /one of/],
    ['apiThrottleRate', -5, /from 1/],
    ['memoryMb', { Finalise: 20000 }, /Finalise an integer from 128 to 10240/],
    ['memoryMb', '{nope', /object of function names/],
    ['jwtIssuer', 'https://auth.example.com/', /placeholder/],
    ['jwtIssuer', '', /must/],
    ['jwtAudience', 42, /must be a non-empty string/],
  ])('%s = %j', (key, value, problem) => {
    const name = `${CONTEXT_PREFIX}${key}`;
    const run = () => synth({ [name]: value });
    expect(run).toThrow(`CDK context "${name}"`);
    expect(run).toThrow(problem);
  });

  it('refuses a key that names no setting (a typo must not silently keep the default)', () => {
    expect(() => synth({ 'serverless-glance:imageSizeCapBytes': 1 })).toThrow(
      /"serverless-glance:imageSizeCapBytes" is not a setting/,
    );
  });

  it('refuses per-function values for a function the stack does not have', () => {
    expect(() => synth({ 'serverless-glance:memoryMb': { Finalize: 4096 } })).toThrow(
      /"serverless-glance:memoryMb" names no function of the stack: "Finalize"/,
    );
  });

  it('refuses an API function timeout API Gateway would cut short', () => {
    expect(() => synth({ 'serverless-glance:timeoutSeconds': { CreateImage: 30 } })).toThrow(
      /"serverless-glance:timeoutSeconds" gives CreateImage 30: API Gateway/,
    );
  });

  it("refuses longer import step timeouts than the state machine's timeouts are derived from", () => {
    expect(() => synth({ 'serverless-glance:timeoutSeconds': { Mark: 60 } })).toThrow(/gives Mark 60/);
  });

  it('refuses reservations that would leave fewer than 100 unreserved executions', () => {
    const run = () => synth({ 'serverless-glance:reservedConcurrency': { Finalise: 500, Fetch: 450 } });
    expect(run).toThrow(/"serverless-glance:reservedConcurrency" reserves 950 executions/);
    expect(run).toThrow(/leaves room for 900/);
    expect(() =>
      synth({
        'serverless-glance:reservedConcurrency': { Finalise: 500, Fetch: 450 },
        'serverless-glance:accountConcurrency': 2000,
      }),
    ).not.toThrow();
  });
});

describe('good context reaches the functions', () => {
  it('takes -c strings and cdk.json values alike', () => {
    const stack = synth({
      'serverless-glance:imageSizeCap': '2048',
      'serverless-glance:delayedDelete': 'true',
      'serverless-glance:importAllowedPorts': '80,8080',
      'serverless-glance:memoryMb': '{"Finalise": 4096}',
      'serverless-glance:reservedConcurrency': { Finalise: 10 },
      'serverless-glance:timeoutSeconds': { CreateImage: 20 },
      'serverless-glance:logRetentionDays': '90',
    });
    expect(stack.settings.imageSizeCap).toBe(2048);
    expect(propsOf(stack, stack.uploads.finalise)).toMatchObject({
      MemorySize: 4096,
      ReservedConcurrentExecutions: 10,
    });
    expect(propsOf(stack, stack.api.functions.get('CreateImage') as never)).toMatchObject({ Timeout: 20 });
    Template.fromStack(stack).allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('gives every data function every setting it reads, and the functions read them back as given', () => {
    const stack = synth({
      'serverless-glance:imageSizeCap': 2048,
      'serverless-glance:quota:image_size_total': 4096,
      'serverless-glance:locationS3Allowed': ['s3://pipeline/golden/'],
      'serverless-glance:showMultipleLocations': true,
      'serverless-glance:delayedDelete': true,
      'serverless-glance:scrubTimeSeconds': 60,
      'serverless-glance:uploadUrlSeconds': 600,
      'serverless-glance:importAllowedHosts': ['Mirror.Corp.Net'],
      'serverless-glance:importAllowedNetworks': ['10.0.0.0/8'],
    });
    // Settings whose default is `null` set their variable only when given (here the first quota).
    const withSettings = (Object.values(SETTINGS) as Setting[]).filter(
      (s) =>
        s.env &&
        (s.default !== null || s.env === 'GLANCE_QUOTA_IMAGE_SIZE_TOTAL' || s.env === 'LOCATION_S3_ALLOWED'),
    );
    const dataFunctions = functionsOf(stack).filter((fn) => 'TABLE_NAME' in variablesOf(fn));
    expect(dataFunctions.length).toBeGreaterThan(30);
    for (const fn of dataFunctions) {
      const variables = variablesOf(fn);
      for (const setting of withSettings) expect(variables).toHaveProperty(setting.env as string);
      const saved = { ...process.env };
      try {
        Object.assign(process.env, variables, { TABLE_NAME: 't', BUCKET_NAME: 'b' });
        expect(readServiceConfig()).toMatchObject({
          delayedDelete: true,
          scrubTimeSeconds: 60,
          limits: { sizeCap: 2048 },
        });
        expect(readQuotaDefaults()).toMatchObject({ image_size_total: 4096, image_count_total: null });
        expect(readLocationSettings()).toMatchObject({
          s3Allowed: [{ bucket: 'pipeline', prefix: 'golden/' }],
          showMultipleLocations: true,
        });
        expect(readUploadSettings().uploadUrlSeconds).toBe(600);
        expect(uriFilterFromEnv()).toMatchObject({
          allowedHosts: ['mirror.corp.net'],
          allowedNetworks: ['10.0.0.0/8'],
          allowedPorts: [80, 443],
        });
      } finally {
        for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
        Object.assign(process.env, saved);
      }
    }
  });
});
