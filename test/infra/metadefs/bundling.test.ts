/**
 * A metadefs function as Lambda runs it: bundled by CDK's local esbuild into one ESM file, with
 * the validators compiled from the served schemas and ajv's CommonJS runtime helper they import,
 * then invoked against the local DynamoDB: a refused body and a created namespace.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, expect, it } from 'vitest';
import { GlanceFunction } from '#infra/constructs/glance-function';
import { localEnvironment, startEmulators } from '#infra/local/emulators';
import { routes } from '#infra/routes';
import { MetadefRepository } from '#shared/metadefs/repository';
import { createDocumentClient } from '#shared/runtime';

const outdir = mkdtempSync(join(tmpdir(), 'glance-bundling-metadefs-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const event = (body: unknown) => ({
  version: '2.0',
  routeKey: 'POST /v2/metadefs/namespaces',
  rawPath: '/v2/metadefs/namespaces',
  rawQueryString: '',
  headers: { host: 'api.test', 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
  body: JSON.stringify(body),
  isBase64Encoded: false,
  requestContext: {
    http: { method: 'POST', path: '/v2/metadefs/namespaces' },
    domainName: 'api.test',
    authorizer: { jwt: { claims: { sub: 'u', project_id: 'p-admin', roles: '[admin]' }, scopes: null } },
  },
});

it('bundles create-namespace into a working ESM handler, its compiled validators included', async () => {
  const route = routes.find((candidate) => candidate.name === 'CreateMetadefNamespace');
  if (!route) throw new Error('no CreateMetadefNamespace route');
  const app = new App({ outdir });
  new GlanceFunction(new Stack(app, 'MetadefsBundle'), route.name, { entry: route.entry });
  app.synth();
  const [asset] = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
  const bundle = join(outdir, asset ?? '', 'index.mjs');

  const emulators = await startEmulators({ tableName: 'bundle-metadefs', bucketName: 'bundle-metadefs' });
  try {
    Object.assign(process.env, localEnvironment(emulators), { POWERTOOLS_LOG_LEVEL: 'ERROR' });
    const { handler } = await import(pathToFileURL(bundle).href);
    const context = {
      functionName: route.name,
      awsRequestId: 'test',
      getRemainingTimeInMillis: () => 10_000,
    };

    const refused = await handler(event({ namespace: 'n'.repeat(81) }), context);
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body).error.message).toMatch(
      /^Provided object does not match schema 'namespace': .* is too long/,
    );

    const created = await handler(
      event({ namespace: 'Bundle::Test', properties: { p: { title: 'P', type: 'string' } } }),
      context,
    );
    expect(created.statusCode).toBe(201);
    expect(created.headers.Location).toBe('https://api.test/v2/metadefs/namespaces/Bundle%3A%3ATest');
    const repository = new MetadefRepository(
      createDocumentClient(emulators.dynamoEndpoint),
      emulators.tableName,
    );
    expect((await repository.getNamespace('Bundle::Test'))?.properties).toEqual({
      p: { type: 'string', title: 'P' },
    });
  } finally {
    await emulators.stop();
  }
}, 60_000);
