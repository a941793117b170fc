import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { FUNCTION_BUNDLING } from '#infra/bundles';
import { contextKey, PerFunction, settingsEnvironment, settingsFailure } from '#infra/settings';
import {
  accountConcurrency,
  memoryMb as memoryMbSetting,
  reservedConcurrency as reservedConcurrencySetting,
  type Settings,
  timeoutSeconds as timeoutSecondsSetting,
} from '#shared/settings';
import { TABLE_KEYS } from '#shared/table';

/**
 * The repository root, from this file's location rather than the working directory, so `cdk synth`,
 * vitest and tsx resolve the same entry files wherever they are started from.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'] as const;
/** The table's indexes (shared/table.ts), which listings, the sweeper and the scrubber query. */
const TABLE_INDEXES = [TABLE_KEYS.gsi1.name, TABLE_KEYS.gsi2.name, TABLE_KEYS.gsi3.name];
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
  /** Executions reserved for this function; none by default (the account's pool is shared). */
  readonly reservedConcurrency?: number;
  /** @default one month */
  readonly logRetention?: RetentionDays;
}

/** Memory and timeout a function has unless the settings say otherwise. */
export interface FunctionDefaults {
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
  /** The most the settings may give it (API functions: API Gateway waits 30 seconds). */
  readonly maxTimeoutSeconds?: number;
  /** Why `maxTimeoutSeconds`, for the synth error. */
  readonly maxTimeoutReason?: string;
}

/**
 * A function's props from the settings when there are any (the stack), from its defaults alone
 * otherwise (a construct synthesized on its own, as the local import runner does).
 */
export const tunedProps = (
  functions: FunctionSettings | undefined,
  name: string,
  props: GlanceFunctionProps,
  defaults: FunctionDefaults = {},
): GlanceFunctionProps =>
  functions
    ? functions.propsFor(name, props, defaults)
    : {
        ...props,
        memorySize: defaults.memoryMb ?? props.memorySize,
        timeout:
          defaults.timeoutSeconds === undefined ? props.timeout : Duration.seconds(defaults.timeoutSeconds),
      };

/** Lambda keeps this many executions of an account unreserved; it refuses reservations that would take them. */
export const MIN_UNRESERVED_CONCURRENCY = 100;

/**
 * What every function of one stack shares from the settings (infra/settings.ts): per-function
 * memory, timeout and reserved concurrency, log retention, and the environment of the settings
 * the functions read. Constructs ask it for a function's props by the function's name; once the
 * stack is built, `check()` fails on a name that matched no function and on reservations AWS
 * would refuse.
 */
export class FunctionSettings {
  private readonly memory: PerFunction;
  private readonly timeouts: PerFunction;
  private readonly reservations: PerFunction;

  constructor(readonly settings: Settings) {
    this.memory = new PerFunction(memoryMbSetting, settings.memoryMb);
    this.timeouts = new PerFunction(timeoutSecondsSetting, settings.timeoutSeconds);
    this.reservations = new PerFunction(reservedConcurrencySetting, settings.reservedConcurrency);
  }

  /** The environment every function gets: the settings the functions read. */
  get environment(): Record<string, string> {
    return settingsEnvironment(this.settings);
  }

  /** The props of function `name`: its defaults, overridden by the settings. */
  propsFor(name: string, props: GlanceFunctionProps, defaults: FunctionDefaults = {}): GlanceFunctionProps {
    if (defaults.maxTimeoutSeconds !== undefined) {
      this.timeouts.checkMax(name, defaults.maxTimeoutSeconds, defaults.maxTimeoutReason ?? 'too long');
    }
    const memory = this.memory.of(name, defaults.memoryMb ?? props.memorySize);
    const timeout = this.timeouts.of(name, defaults.timeoutSeconds);
    return {
      ...props,
      memorySize: memory,
      timeout: timeout === undefined ? props.timeout : Duration.seconds(timeout),
      reservedConcurrency: this.reservations.of(name),
      logRetention: Number(this.settings.logRetentionDays) as RetentionDays,
      environment: { ...this.environment, ...props.environment },
    };
  }

  /** Run once every function exists. */
  check(): void {
    this.memory.checkAllUsed();
    this.timeouts.checkAllUsed();
    this.reservations.checkAllUsed();
    const reserved = this.reservations.entries.reduce((sum, [, value]) => sum + value, 0);
    const room = this.settings.accountConcurrency - MIN_UNRESERVED_CONCURRENCY;
    if (reserved > room) {
      settingsFailure(
        contextKey(reservedConcurrencySetting),
        `reserves ${reserved} executions in all, but an account limit of ${this.settings.accountConcurrency} ` +
          `(${contextKey(accountConcurrency)}) leaves room for ${room}: Lambda keeps ${MIN_UNRESERVED_CONCURRENCY} unreserved`,
      );
    }
  }
}

/**
 * Every function of the service, built one way: arm64 on Node.js 22, one minified ESM bundle with
 * source maps made by the local esbuild (never Docker), and its own log group kept for a month.
 * The props are deliberately narrow so functions cannot drift from these defaults; a function's
 * permissions are added afterwards with the `grant*` methods, one concern each.
 */
export class GlanceFunction extends NodejsFunction {
  /** The function's own log group; its role may write there and nowhere else. */
  readonly logs: LogGroup;

  constructor(scope: Construct, id: string, props: GlanceFunctionProps) {
    // Created in the parent scope because `this` cannot own children before `super` returns.
    const logs = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): its own group only.
    const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logs.grantWrite(role);
    super(scope, id, {
      role,
      entry: join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      reservedConcurrentExecutions: props.reservedConcurrency,
      description: props.description,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      logGroup: logs,
      bundling: FUNCTION_BUNDLING,
    });
    this.logs = logs;
  }

  /** Read access to the table and its indexes: GetItem and Query only (listings never Scan). */
  grantImagesRead(table: ITable): void {
    this.grantTable(table, TABLE_READ_ACTIONS);
  }

  /** Read and write access, for routes that change images or tasks; still no Scan. */
  grantImagesWrite(table: ITable): void {
    this.grantTable(table, [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS]);
  }

  /** The table and each of its indexes by name: no `index/*` wildcard. */
  private grantTable(table: ITable, actions: readonly string[]): void {
    this.addToRolePolicy(
      new PolicyStatement({
        actions: [...actions],
        resources: [table.tableArn, ...TABLE_INDEXES.map((index) => `${table.tableArn}/index/${index}`)],
      }),
    );
  }
}
