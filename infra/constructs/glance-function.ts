import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * The repository root, from this file's location rather than the working directory, so `cdk synth`,
 * vitest and tsx resolve the same entry files wherever they are started from.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Lets the ESM bundle load CommonJS dependencies: esbuild's `require` shim throws in ESM output
 * unless a real `require` is in scope. The import is aliased so it cannot clash with bundled names.
 */
const CJS_REQUIRE_BANNER =
  "import { createRequire as __glanceCreateRequire } from 'node:module'; const require = __glanceCreateRequire(import.meta.url);";

const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'] as const;
/** DeleteItem is for the idempotency records of the S3 trigger; images are never deleted, only tombstoned. */
const TABLE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;

/**
 * Where a data function finds the table and the bucket (`TABLE_NAME`, `BUCKET_NAME`, read by
 * shared/config.ts), plus any extra settings.
 */
export const dataEnvironment = (
  targets: { readonly table: ITable; readonly bucket: IBucket },
  extra: Record<string, string> = {},
): Record<string, string> => ({
  TABLE_NAME: targets.table.tableName,
  BUCKET_NAME: targets.bucket.bucketName,
  ...extra,
});

export interface GlanceFunctionProps {
  /** Entry file relative to the repository root, as in the route table (`functions/...ts`). */
  readonly entry: string;
  readonly description?: string;
  readonly environment?: Record<string, string>;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default 10 seconds */
  readonly timeout?: Duration;
}

/**
 * Every function of the service, built one way: arm64 on Node.js 22, one minified ESM bundle with
 * source maps made by the local esbuild (never Docker), and its own log group kept for a month.
 * The props are deliberately narrow so functions cannot drift from these defaults; a function's
 * permissions are added afterwards with the `grant*` methods, one concern each.
 */
export class GlanceFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: GlanceFunctionProps) {
    super(scope, id, {
      entry: join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      description: props.description,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      // Created in the parent scope because `this` cannot own children before `super` returns.
      logGroup: new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH }),
      bundling: {
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
      },
    });
  }

  /** Read access to the table and its indexes: GetItem and Query only (listings never Scan). */
  grantImagesRead(table: ITable): void {
    table.grant(this, ...TABLE_READ_ACTIONS);
  }

  /** Read and write access, for routes that change images or tasks; still no Scan. */
  grantImagesWrite(table: ITable): void {
    table.grant(this, ...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS);
  }
}
