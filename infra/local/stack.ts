/**
 * The whole service on one machine: emulators, the environment the functions read, and the API
 * Gateway adapter. `npm start` and the integration tests start it through this one function, so
 * what the tests exercise is what a developer runs.
 */
import { keystoneAuthorizerEntry, type Route } from '#infra/routes';
import type { LoadReport } from '#shared/metadefs/loader';
import { type LocalAuthorizer, startApiGateway } from './api-gateway.ts';
import { localEnvironment, type ObjectCreatedListener, startEmulators } from './emulators.ts';
import { type LocalImport, startLocalImport } from './import.ts';
import {
  defaultDataDir,
  type LocalKeys,
  loadOrCreateKeys,
  localVerifier,
  signToken,
  type TokenOptions,
} from './keys.ts';
import { type Accounts, defaultAccounts, loadOrCreateAccounts } from './keystone/accounts.ts';
import { type LocalKeystone, startLocalKeystone } from './keystone/server.ts';
import { type LocalLambdaService, startLocalLambdaService } from './lambda-service.ts';
import type { S3AccessModel } from './s3-access.ts';
import { type LocalSecretsManager, startLocalSecretsManager } from './secrets-manager.ts';
import { COMPLETER, startUploadEvents } from './upload-events.ts';

export interface LocalStackOptions {
  /** Adapter port; 0 lets the OS choose. The emulators always take OS-chosen ports. */
  readonly port: number;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /**
   * True keeps DynamoDB and S3 data in `dataDir` (images survive a restart); false runs them in
   * memory and in a temporary directory.
   */
  readonly persist: boolean;
  /** Holds the JWT keys and, when persisting, the data. Defaults to `defaultDataDir()` when persisting; without it (and not persisting) keys are in memory too. */
  readonly dataDir?: string;
  readonly tableName?: string;
  readonly bucketName?: string;
  /** Defaults to infra/routes.ts; tests add fixture routes. */
  readonly routes?: readonly Route[];
  /** Loads the metadefs starter catalog into a table that never had it (`npm start` does). */
  readonly metadefsStarterCatalog?: boolean;
  /**
   * The identity mode, as on AWS: `jwt` (the default) verifies tokens like the HTTP API JWT
   * authorizer; `keystone` also serves a local Keystone and authorizes every request through
   * the Keystone Lambda authorizer.
   */
  readonly identity?: IdentityMode;
  /** Keystone mode: its port (0, the default, lets the OS choose; `npm start` uses 5000). */
  readonly keystonePort?: number;
  /** Keystone mode: users and projects; defaults to `<dataDir>/keystone-accounts.json` (created if missing), or fresh defaults in memory without a data dir. */
  readonly accounts?: Accounts;
  /** Keystone mode: the authorizer's `KEYSTONE_CACHE_SECONDS` (default 300). */
  readonly authorizerCacheSeconds?: number;
  /** What S3 answers callers with the functions' roles would get; defaults to the stack's grants. */
  readonly s3Access?: S3AccessModel;
}

export type IdentityMode = 'jwt' | 'keystone';

/** Keystone mode: the local identity service and what the API was configured with. */
export interface LocalIdentity {
  /** `http://host:port`; clients use `${url}/v3` as `OS_AUTH_URL`. */
  readonly url: string;
  readonly accounts: Accounts;
  /** The accounts file, when it lives in the data dir. */
  readonly accountsFile?: string;
  /** Stops the local Keystone early (tests of an unreachable Keystone); `stop()` is then a no-op for it. */
  close(): Promise<void>;
}

/** The secret the authorizer reads its service credentials from (as deployed, by name). */
export const LOCAL_SERVICE_SECRET = 'serverless-glance/keystone-service';

export interface LocalStack {
  /** The API's base URL, e.g. `http://127.0.0.1:9292`. */
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  readonly tableName: string;
  readonly bucketName: string;
  readonly keys: LocalKeys;
  readonly identityMode: IdentityMode;
  /** Keystone mode only. */
  readonly keystone?: LocalIdentity;
  /** Signs a token the adapter accepts (in both modes). */
  signToken(options: TokenOptions): Promise<string>;
  /** S3 `ObjectCreated:*` notifications for the bucket; returns the unsubscribe function. */
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  /**
   * The local Lambda endpoint functions invoke other functions through (the completion of
   * multipart uploads): its failures are the on-failure destination's messages.
   */
  readonly lambda: LocalLambdaService;
  /** The import's local Step Functions (infra/local/step-functions/), with what its restart recovered. */
  readonly stepFunctions: LocalImport;
  /** What the metadefs starter catalog load wrote; undefined when it did not run. */
  readonly metadefsStarterCatalog?: LoadReport;
  stop(): Promise<void>;
}

/**
 * Starts everything and points the functions at it through `process.env`. Handlers are imported
 * lazily on their first request, so they read this environment at cold start, as on AWS.
 * One stack per process: a second one would overwrite the environment of the first.
 */
export const startLocalStack = async (options: LocalStackOptions): Promise<LocalStack> => {
  const dataDir = options.dataDir ?? (options.persist ? defaultDataDir() : undefined);
  const host = options.host ?? '127.0.0.1';
  const stoppers: (() => Promise<void>)[] = [];
  const emulators = await startEmulators({
    tableName: options.tableName ?? 'glance',
    bucketName: options.bucketName ?? 'glance-images',
    dataDir: options.persist ? dataDir : undefined,
    host: '127.0.0.1',
    s3Access: options.s3Access,
  });
  try {
    Object.assign(process.env, localEnvironment(emulators));
    // Metrics are CloudWatch log lines; locally they would only flood the console.
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'ServerlessGlance';
    const metadefsStarterCatalog = options.metadefsStarterCatalog
      ? // Loaded only when asked for: it brings the runtime and the logger, which must read the
        // environment set above, as the handlers do at their cold start.
        await (await import('./metadefs.ts')).seedLocalMetadefs(emulators)
      : undefined;
    const keys = await loadOrCreateKeys(dataDir);
    const identityMode = options.identity ?? 'jwt';
    const authorizer: LocalAuthorizer =
      identityMode === 'keystone'
        ? { mode: 'keystone', entry: keystoneAuthorizerEntry }
        : { mode: 'jwt', verify: localVerifier(keys) };
    // Functions invoked by functions (`.../complete` → the completion function), through the SDK.
    const lambda = await startLocalLambdaService({ functions: [COMPLETER] });
    stoppers.push(() => lambda.close());
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      COMPLETE_UPLOAD_FUNCTION: COMPLETER.name,
    });
    const gateway = await startApiGateway({ authorizer, port: options.port, host, routes: options.routes });
    stoppers.push(() => gateway.close());
    const keystone =
      identityMode === 'keystone' ? await startKeystone(options, keys, gateway.url, stoppers) : undefined;
    // S3 ObjectCreated → finaliser, and the sweeper's timer (the data path's non-HTTP triggers).
    const uploads = startUploadEvents({ onObjectCreated: (listener) => emulators.onObjectCreated(listener) });
    // The import workflow: a local Step Functions endpoint running the synthesized definition.
    const stepFunctions = await startLocalImport({ dataDir: options.persist ? dataDir : undefined });
    return {
      url: gateway.url,
      dynamoEndpoint: emulators.dynamoEndpoint,
      s3Endpoint: emulators.s3Endpoint,
      tableName: emulators.tableName,
      bucketName: emulators.bucketName,
      keys,
      identityMode,
      keystone,
      signToken: (token) => signToken(keys, token),
      onObjectCreated: (listener) => emulators.onObjectCreated(listener),
      lambda,
      stepFunctions,
      metadefsStarterCatalog,
      async stop() {
        for (const stop of stoppers.reverse()) await stop();
        await stepFunctions.close();
        await uploads.stop();
        await emulators.stop();
      },
    };
  } catch (error) {
    for (const stop of stoppers.reverse()) await stop().catch(() => {});
    await emulators.stop();
    throw error;
  }
};

/**
 * Keystone mode: the local Keystone, and a local Secrets Manager holding the service user's
 * credentials, which the authorizer reads through the SDK as on AWS. The environment set here is
 * what CDK gives the deployed authorizer (infra/constructs/api.ts).
 */
const startKeystone = async (
  options: LocalStackOptions,
  keys: LocalKeys,
  imageUrl: string,
  stoppers: (() => Promise<void>)[],
): Promise<LocalIdentity> => {
  const dataDir = options.dataDir ?? (options.persist ? defaultDataDir() : undefined);
  const loaded = options.accounts
    ? { accounts: options.accounts, file: undefined }
    : dataDir
      ? await loadOrCreateAccounts(dataDir)
      : { accounts: defaultAccounts(), file: undefined };
  const { accounts } = loaded;
  const secrets: LocalSecretsManager = await startLocalSecretsManager();
  stoppers.push(() => secrets.close());
  const keystone: LocalKeystone = await startLocalKeystone({
    accounts,
    keys,
    imageUrl,
    port: options.keystonePort ?? 0,
    host: options.host ?? '127.0.0.1',
  });
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= keystone.close();
    return closed;
  };
  stoppers.push(close);
  const service = accounts.users.find((user) => user.name === accounts.service_user.name);
  const project = accounts.projects.find((candidate) => candidate.name === accounts.service_user.project);
  if (!service || !project) throw new Error('the accounts name no usable service_user');
  secrets.put(
    LOCAL_SERVICE_SECRET,
    JSON.stringify({
      username: service.name,
      user_domain_id: service.domain_id,
      password: service.password,
      project_name: project.name,
      project_domain_id: project.domain_id,
    }),
  );
  Object.assign(process.env, {
    KEYSTONE_URL: `${keystone.url}/v3`,
    KEYSTONE_SERVICE_SECRET: LOCAL_SERVICE_SECRET,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    ...(options.authorizerCacheSeconds !== undefined && {
      KEYSTONE_CACHE_SECONDS: String(options.authorizerCacheSeconds),
    }),
  });
  return { url: keystone.url, accounts, accountsFile: loaded.file, close };
};
