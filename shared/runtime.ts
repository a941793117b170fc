/**
 * The runtime wiring of the functions: the one place AWS SDK clients are constructed and the
 * configuration (shared/config.ts) is turned into the repositories, the object store and the
 * dependency objects the domain modules take. Domain modules never import this module; function
 * entries do, and tests and benchmarks use its client factories.
 *
 * Every accessor is lazy and memoized: built on its first call, once per container, and shared by
 * every later invocation. A function that never calls `objectStore()` never builds an S3 client;
 * and since each accessor is its own top-level function and the SDK packages are free of side
 * effects, esbuild leaves the clients a function does not call out of its bundle
 * (test/infra/bundling.test.ts checks this).
 *
 * Failing fast: an accessor reads its whole configuration section at once, and handlers call their
 * accessors before any read or write, so a missing or malformed setting fails the first invocation
 * with `MissingConfigError` naming the variable, never half-way through a request.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  awsEndpoint,
  readCompleteUploadFunction,
  readImageFormatPolicy,
  readKeystoneConfig,
  readLocationSettings,
  readLocationView,
  readQuotaDefaults,
  readServiceConfig,
  readStateMachineArn,
  readUploadSettings,
  requiredEnv,
  sdkEnvironment,
  uriFilterFromEnv,
} from '#shared/config';
import { documentClientOf } from '#shared/dynamo';
import { KeystoneClient } from '#shared/identity/keystone';
import { ValidationCache } from '#shared/identity/validation-cache';
import { ImageReads, ImageRepository } from '#shared/images/repository';
import type { ImportApiDeps, TaskApiDeps } from '#shared/import/start-import';
import type { FailureDeps, StepDeps } from '#shared/import/steps';
import type { LocationApiDeps } from '#shared/locations/add-location';
import { MemberReads } from '#shared/members/reads';
import { MemberRepository } from '#shared/members/repository';
import { MetadefRepository } from '#shared/metadefs/repository';
import { UsageLedger } from '#shared/quotas/ledger';
import { ObjectStore } from '#shared/storage/object-store';
import { stepFunctionsExecutions } from '#shared/tasks/executions';
import { TaskRepository } from '#shared/tasks/repository';
import type { Completions } from '#shared/uploads/complete';
import { lambdaCompletions } from '#shared/uploads/completions';
import type { UploadContext } from '#shared/uploads/context';

/** `build` run on the first call only; every call returns what it built. */
const once = <T>(build: () => T): (() => T) => {
  let built: { readonly value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
};

// ---------------------------------------------------------------------------------------------
// Client factories: the only `new ...Client` of the service. Locally the standard
// `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_SFN` /
// `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_LAMBDA` variables point the clients at the emulators (the SDK reads
// them itself); S3 needs path-style addressing there.

export const createDynamoDbClient = (endpoint = awsEndpoint('DYNAMODB')): DynamoDBClient =>
  new DynamoDBClient(endpoint ? { endpoint } : {});

export const createDocumentClient = (endpoint = awsEndpoint('DYNAMODB')): DynamoDBDocumentClient =>
  documentClientOf(createDynamoDbClient(endpoint));

export const createS3Client = (endpoint = awsEndpoint('S3')): S3Client =>
  new S3Client({
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // Presigned URLs must not carry checksum parameters the uploader cannot know in advance.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

/** A loopback endpoint: the local emulators, which check no credentials. */
const LOOPBACK_ENDPOINT = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/;

/**
 * The document client of an operator CLI run from a shell (`serverless-glance metadefs`): the
 * endpoint it was given, your AWS credentials; a loopback endpoint (the emulators `npm start`
 * prints) gets a region and dummy credentials where the environment has none.
 */
export const createCliDocumentClient = (endpoint = awsEndpoint('DYNAMODB')): DynamoDBDocumentClient => {
  const local = endpoint !== undefined && LOOPBACK_ENDPOINT.test(endpoint);
  const sdk = sdkEnvironment();
  return documentClientOf(
    new DynamoDBClient({
      ...(endpoint ? { endpoint } : {}),
      ...(local && !sdk.hasRegion ? { region: 'us-east-1' } : {}),
      ...(local && !sdk.hasCredentials
        ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
    }),
  );
};

// ---------------------------------------------------------------------------------------------
// Configuration

/** Table, bucket, limits, delayed delete, scrub time, task lifetime. */
export const serviceConfig = /* @__PURE__ */ once(readServiceConfig);
/**
 * The table's name alone: the repositories need nothing else, so a function that reads no other
 * setting (most API functions) bundles none of the settings' parsers (docs/benchmarks.md#cold-start).
 */
export const tableName = /* @__PURE__ */ once(() => requiredEnv('TABLE_NAME'));
/** The data path's URL lifetimes, graces and multipart sizes. */
export const uploadSettings = /* @__PURE__ */ once(readUploadSettings);
/** Glance's `[image_format]` options: what inspected data must be to be accepted. */
export const imageFormatPolicy = /* @__PURE__ */ once(readImageFormatPolicy);
/** The web-download URI filter, which location URLs pass too. */
export const uriFilter = /* @__PURE__ */ once(uriFilterFromEnv);
/** Where locations may point, and whether the legacy `locations` view and patch are on (docs/locations.md). */
export const locationSettings = /* @__PURE__ */ once(readLocationSettings);
/** What an image's view needs of them: for the functions that only show images. */
export const locationView = /* @__PURE__ */ once(readLocationView);

// ---------------------------------------------------------------------------------------------
// Clients, repositories, the store

/** The DynamoDB client (the idempotency layer of the S3 trigger uses it directly). */
export const dynamoDbClient = /* @__PURE__ */ once(() => createDynamoDbClient());
export const documentClient = /* @__PURE__ */ once(() => documentClientOf(dynamoDbClient()));
export const s3Client = /* @__PURE__ */ once(() => createS3Client());
export const eventBridgeClient = /* @__PURE__ */ once(() => new EventBridgeClient({}));

/**
 * The deployment's quota limits (docs/quotas.md#names-and-limits), read the first time a write
 * needs room: a function that only reads images or gives room back never parses them.
 */
export const quotaDefaults = /* @__PURE__ */ once(readQuotaDefaults);
/** The per-project usage items (docs/quotas.md), shared by every image write. */
export const ledger = /* @__PURE__ */ once(
  () => new UsageLedger({ doc: documentClient(), tableName: tableName() }, quotaDefaults),
);
/**
 * The image reads alone, for the functions that never write an image: no write path, no quota
 * ledger in their bundles (docs/benchmarks.md#cold-start).
 */
export const imageReads = /* @__PURE__ */ once(
  () => new ImageReads(documentClient(), tableName(), new MemberReads(documentClient(), tableName())),
);
export const images = /* @__PURE__ */ once(
  () =>
    new ImageRepository(documentClient(), tableName(), new MemberReads(documentClient(), tableName()), {
      ledger: ledger(),
    }),
);
/** The image repository that also writes members: the member routes and image deletes. */
export const imagesAndMembers = /* @__PURE__ */ once(
  () =>
    new ImageRepository(documentClient(), tableName(), new MemberRepository(documentClient(), tableName()), {
      ledger: ledger(),
    }),
);
export const tasks = /* @__PURE__ */ once(() => new TaskRepository(documentClient(), tableName()));
/** The metadata definitions catalog (docs/metadefs.md#storage). */
export const metadefs = /* @__PURE__ */ once(() => new MetadefRepository(documentClient(), tableName()));
export const objectStore = /* @__PURE__ */ once(
  () => new ObjectStore(s3Client(), serviceConfig().bucketName),
);

// ---------------------------------------------------------------------------------------------
// What the domain modules take

/** The data path: uploads, finaliser, sweeper, scrubber, downloads, deletes. */
export const uploadContext = /* @__PURE__ */ once(
  (): UploadContext => ({
    images: images(),
    store: objectStore(),
    limits: serviceConfig().limits,
    settings: uploadSettings(),
    formatPolicy: imageFormatPolicy(),
  }),
);

/**
 * `.../complete`: queues the assembly with an asynchronous invoke of the completion function.
 * `COMPLETE_UPLOAD_FUNCTION` is read with the client, before the request is checked.
 */
export const completions = /* @__PURE__ */ once(
  (): Completions => lambdaCompletions(new LambdaClient({}), readCompleteUploadFunction()),
);

/** The import state machine's step functions. */
export const importStepDeps = /* @__PURE__ */ once(
  (): StepDeps => ({
    images: images(),
    tasks: tasks(),
    store: objectStore(),
    limits: serviceConfig().limits,
    formatPolicy: imageFormatPolicy(),
    filter: uriFilterFromEnv(),
    locations: locationSettings(),
    taskTimeToLiveHours: serviceConfig().taskTimeToLiveHours,
  }),
);

/** The failure branch's cleanup, for the sweeper's tasks whose execution never started. */
export const importFailureDeps = /* @__PURE__ */ once(
  (): FailureDeps => ({
    images: images(),
    tasks: tasks(),
    store: objectStore(),
    taskTimeToLiveHours: serviceConfig().taskTimeToLiveHours,
  }),
);

/**
 * The API functions that start imports (`POST .../import`, `POST /v2/tasks`). `STATE_MACHINE_ARN`
 * is read with the rest: a function deployed without it fails before it takes any import lock.
 */
export const importApiDeps = /* @__PURE__ */ once(
  (): ImportApiDeps => ({
    images: images(),
    tasks: tasks(),
    executions: stepFunctionsExecutions(new SFNClient({}), readStateMachineArn()),
    store: objectStore(),
    limits: serviceConfig().limits,
    filter: uriFilterFromEnv(),
    taskTimeToLiveHours: serviceConfig().taskTimeToLiveHours,
  }),
);

/** `POST /v2/tasks`: the import API's dependencies but the object store (no S3 client). */
export const taskApiDeps = /* @__PURE__ */ once(
  (): TaskApiDeps => ({
    images: images(),
    tasks: tasks(),
    executions: stepFunctionsExecutions(new SFNClient({}), readStateMachineArn()),
    filter: uriFilterFromEnv(),
    taskTimeToLiveHours: serviceConfig().taskTimeToLiveHours,
  }),
);

/** `POST /v2/images/{image_id}/locations`: the import API's dependencies but the object store (no S3 client), and the location settings. */
export const locationApiDeps = /* @__PURE__ */ once(
  (): LocationApiDeps => ({
    images: images(),
    tasks: tasks(),
    executions: stepFunctionsExecutions(new SFNClient({}), readStateMachineArn()),
    limits: serviceConfig().limits,
    filter: uriFilterFromEnv(),
    taskTimeToLiveHours: serviceConfig().taskTimeToLiveHours,
    locations: locationSettings(),
  }),
);

// ---------------------------------------------------------------------------------------------
// Identity mode `keystone`: the authorizer's (docs/identity.md#keystone-mode)

/** Rotated service credentials are read again after this long, or at once when Keystone refuses them. */
const SERVICE_SECRET_MAX_AGE_SECONDS = 300;

export const keystoneConfig = /* @__PURE__ */ once(readKeystoneConfig);
export const secretsManagerClient = /* @__PURE__ */ once(() => new SecretsManagerClient({}));

/** Validates tokens with the operator's Keystone, as the service user of the secret. */
export const keystoneClient = /* @__PURE__ */ once(() => {
  const { url, timeoutMs, serviceSecret } = keystoneConfig();
  const secrets = new SecretsProvider({ awsSdkV3Client: secretsManagerClient() });
  return new KeystoneClient({
    url,
    timeoutMs,
    credentials: ({ fresh }) =>
      secrets.get(serviceSecret, {
        transform: 'json',
        maxAge: SERVICE_SECRET_MAX_AGE_SECONDS,
        forceFetch: fresh,
      }),
  });
});

/** The validations this container trusts for `KEYSTONE_CACHE_SECONDS`. */
export const tokenValidations = /* @__PURE__ */ once(
  () => new ValidationCache({ ttlMs: keystoneConfig().cacheSeconds * 1000 }),
);
