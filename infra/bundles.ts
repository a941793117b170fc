/**
 * How every function is bundled, in one place: GlanceFunction hands these options to CDK, which runs
 * the local esbuild with them; `bundles()` runs the same esbuild in process with the same options, so
 * the bundle budget test and `npm run bench -- bundles` measure what CDK would ship without a synth
 * (docs/benchmarks.md#cold-start). test/infra/bundling.test.ts checks both give the same bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type BuildOptions, build } from 'esbuild';

/**
 * Lets the ESM bundle load CommonJS dependencies: esbuild's `require` shim throws in ESM output
 * unless a real `require` is in scope. The import is aliased so it cannot clash with bundled names.
 */
const CJS_REQUIRE_BANNER =
  "import { createRequire as __glanceCreateRequire } from 'node:module'; const require = __glanceCreateRequire(import.meta.url);";

/** The functions' runtime (Node.js 22), as esbuild's target. */
export const BUNDLE_TARGET = 'node22';

/** The bundling props of every GlanceFunction. */
export const FUNCTION_BUNDLING = {
  forceDockerBundling: false,
  // Ship the SDK versions the tests ran with instead of whatever the runtime carries.
  bundleAwsSDK: true,
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  banner: CJS_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  // Mappings are enough for readable stack traces; embedding the sources only grows the zip.
  sourcesContent: false,
} as const satisfies BundlingOptions;

/** The esbuild options CDK derives from FUNCTION_BUNDLING, for esbuild's API. */
const esbuildOptions = (root: string, outdir: string): BuildOptions => ({
  absWorkingDir: root,
  bundle: true,
  target: BUNDLE_TARGET,
  platform: 'node',
  format: FUNCTION_BUNDLING.format,
  outdir,
  outExtension: { '.js': '.mjs' },
  minify: FUNCTION_BUNDLING.minify,
  sourcemap: FUNCTION_BUNDLING.sourceMap,
  sourcesContent: FUNCTION_BUNDLING.sourcesContent,
  mainFields: [...FUNCTION_BUNDLING.mainFields],
  banner: { js: FUNCTION_BUNDLING.banner },
  logLevel: 'silent',
});

/**
 * Bundles the entries (file paths relative to `root`, by name) in one esbuild run, each output as
 * CDK writes it for that function alone: `<name>.mjs` here, `index.mjs` in a CDK asset, so the
 * source-map comment at the end is the only difference (`index` gives the very same bytes). With
 * `outdir` the bundles and their maps are written there too, so they can be loaded.
 */
export const bundles = async (
  root: string,
  entries: Readonly<Record<string, string>>,
  outdir?: string,
): Promise<Map<string, string>> => {
  const result = await build({
    ...esbuildOptions(root, outdir ?? join(root, '.bundles')),
    entryPoints: Object.entries(entries).map(([name, entry]) => ({ in: entry, out: name })),
    write: false,
  });
  if (outdir) {
    await mkdir(outdir, { recursive: true });
    await Promise.all(result.outputFiles.map((file) => writeFile(file.path, file.contents)));
  }
  const code = new Map<string, string>();
  for (const file of result.outputFiles) {
    if (file.path.endsWith('.mjs')) code.set(basename(file.path, '.mjs'), file.text);
  }
  return code;
};

/** A bundle's code without its trailing source-map comment, whose file name differs per function. */
export const codeOf = (bundle: string): string => bundle.replace(/\n\/\/# sourceMappingURL=\S+\n?$/, '\n');
