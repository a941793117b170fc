import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { afterAll, expect, it } from 'vitest';
import { bundles } from '#infra/bundles';
import { GlanceFunction, REPO_ROOT } from '#infra/constructs/glance-function';
import { keystoneAuthorizerEntry, notFoundEntry } from '#infra/routes';

const outdir = mkdtempSync(join(tmpdir(), 'glance-bundling-'));

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/**
 * The one test that really bundles: proves the local esbuild path works without Docker and that the
 * ESM output (with its createRequire banner and source map) loads and answers like a Lambda handler.
 */
it('bundles a real function with the local esbuild into a working ESM handler', async () => {
  const app = new App({ outdir });
  new GlanceFunction(new Stack(app, 'BundlingTest'), 'NotFound', { entry: notFoundEntry });
  app.synth();

  const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
  expect(assets).toHaveLength(1);
  const assetDir = join(outdir, assets[0] ?? '');
  const bundle = join(assetDir, 'index.mjs');
  expect(existsSync(`${bundle}.map`)).toBe(true);
  expect(readFileSync(bundle, 'utf8')).toContain('createRequire');
  // The budget test and the bench bundle in process with the same settings: the very same bytes.
  const inProcess = await bundles(REPO_ROOT, { index: notFoundEntry });
  expect(inProcess.get('index')).toBe(readFileSync(bundle, 'utf8'));

  const { handler } = await import(pathToFileURL(bundle).href);
  const result = await handler(
    {
      rawPath: '/v2/nowhere',
      routeKey: '$default',
      headers: {},
      requestContext: { http: { method: 'GET' } },
    },
    { awsRequestId: 'test', functionName: 'NotFound' },
  );
  expect(result.statusCode).toBe(404);
}, 30_000);

/**
 * The runtime wiring builds clients lazily and each accessor is its own pure top-level function, so
 * esbuild leaves out of a function's bundle the AWS clients it never calls (shared/runtime.ts).
 * The markers are the service ids each SDK client carries.
 */
it('bundles only the AWS clients a function uses', () => {
  const app = new App({ outdir: join(outdir, 'lean') });
  const stack = new Stack(app, 'LeanBundles');
  const entries = {
    ShowImage: 'functions/images/show-image.ts',
    ImportImage: 'functions/images/import-image.ts',
    PublishTransitions: 'functions/events/publish-transitions.ts',
    ShowMetadefNamespace: 'functions/metadefs/show-namespace.ts',
    KeystoneAuthorizer: keystoneAuthorizerEntry,
  };
  const functions = Object.entries(entries).map(([id, entry]) => new GlanceFunction(stack, id, { entry }));
  const assembly = app.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
  };
  const bundleOf = (fn: GlanceFunction) => {
    const resource = template.Resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)];
    const hash = (resource?.Properties.Code?.S3Key ?? '').replace(/\.zip$/, '');
    return readFileSync(join(assembly.directory, `asset.${hash}`, 'index.mjs'), 'utf8');
  };
  const [showImage, importImage, publish, showNamespace, authorizer] = functions.map(bundleOf) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const clients = (bundle: string) => ({
    dynamodb: bundle.includes('DynamoDB_20120810'),
    s3: bundle.includes('AmazonS3'),
    sfn: bundle.includes('AWSStepFunctions'),
    eventbridge: bundle.includes('AWSEvents'),
    secretsmanager: bundle.includes('secretsmanager'),
  });
  const none = { dynamodb: false, s3: false, sfn: false, eventbridge: false, secretsmanager: false };
  expect(clients(showImage)).toEqual({ ...none, dynamodb: true });
  // HeadObject of a staged object the S3 trigger has not recorded yet (glance-direct).
  expect(clients(importImage)).toEqual({ ...none, dynamodb: true, s3: true, sfn: true });
  expect(clients(publish)).toEqual({ ...none, eventbridge: true });
  expect(clients(showNamespace)).toEqual({ ...none, dynamodb: true });
  expect(clients(authorizer)).toEqual({ ...none, secretsmanager: true });
  // The metadefs repository is in the wiring module too, and stays out of the image functions.
  const metadefsMarker = 'Metadata definition namespace';
  expect(showNamespace).toContain(metadefsMarker);
  expect(showImage).not.toContain(metadefsMarker);
}, 60_000);
