/**
 * The whole service on one machine: emulators, the environment the functions read, and the API
 * Gateway adapter. `npm start` and the integration tests start it through this one function, so
 * what the tests exercise is what a developer runs.
 */
import type { Route } from '#infra/routes';
import type { LoadReport } from '#shared/metadefs/loader';
import { startApiGateway } from './api-gateway.ts';
import { localEnvironment, type ObjectCreatedListener, startEmulators } from './emulators.ts';
import { startLocalImport } from './import.ts';
import {
  defaultDataDir,
  type LocalKeys,
  loadOrCreateKeys,
  localVerifier,
  signToken,
  type TokenOptions,
} from './keys.ts';
import { seedLocalMetadefs } from './metadefs.ts';
import type { LocalStepFunctions } from './step-functions/server.ts';
import { startUploadEvents } from './upload-events.ts';

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
}

export interface LocalStack {
  /** The API's base URL, e.g. `http://127.0.0.1:9292`. */
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  readonly tableName: string;
  readonly bucketName: string;
  readonly keys: LocalKeys;
  /** Signs a token the adapter accepts. */
  signToken(options: TokenOptions): Promise<string>;
  /** S3 `ObjectCreated:*` notifications for the bucket; returns the unsubscribe function. */
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  /** The import's local Step Functions (infra/local/step-functions/). */
  readonly stepFunctions: LocalStepFunctions;
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
  const emulators = await startEmulators({
    tableName: options.tableName ?? 'glance',
    bucketName: options.bucketName ?? 'glance-images',
    dataDir: options.persist ? dataDir : undefined,
    host: '127.0.0.1',
  });
  try {
    Object.assign(process.env, localEnvironment(emulators));
    const metadefsStarterCatalog = options.metadefsStarterCatalog
      ? await seedLocalMetadefs(emulators)
      : undefined;
    const keys = await loadOrCreateKeys(dataDir);
    const gateway = await startApiGateway({
      verify: localVerifier(keys),
      port: options.port,
      host,
      routes: options.routes,
    });
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
      signToken: (token) => signToken(keys, token),
      onObjectCreated: (listener) => emulators.onObjectCreated(listener),
      stepFunctions,
      metadefsStarterCatalog,
      async stop() {
        await gateway.close();
        await stepFunctions.close();
        await uploads.stop();
        await emulators.stop();
      },
    };
  } catch (error) {
    await emulators.stop();
    throw error;
  }
};
