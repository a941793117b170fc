import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, expect, it } from 'vitest';
import { GlanceFunction } from '#infra/constructs/glance-function';
import { notFoundEntry } from '#infra/routes';

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

  const { handler } = await import(pathToFileURL(bundle).href);
  const result = await handler(
    { rawPath: '/nowhere', routeKey: '$default', headers: {}, requestContext: { http: { method: 'GET' } } },
    { awsRequestId: 'test', functionName: 'NotFound' },
  );
  expect(result.statusCode).toBe(404);
}, 30_000);
