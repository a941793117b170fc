/**
 * DynamoDB (dynalite) and S3 (s3rver) on 127.0.0.1, provisioned with the table and bucket the
 * functions expect. `npm start` keeps their data under `.data/`; tests run them in memory and in
 * a temporary directory.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { TABLE_KEYS } from '#shared/table';
import { LOCAL_REGION } from './lambda-runtime.ts';
import { defaultS3Access, enforceS3Access, type S3AccessModel } from './s3-access.ts';
import { addConditionalReads } from './s3-conditional-reads.ts';
import { addMultipartCalls } from './s3-multipart.ts';

export { LOCAL_REGION };
/**
 * Dummy credentials for both emulators: s3rver refuses any access key but its built-in `S3RVER`
 * (it checks the key id, not SigV4 signatures); dynalite accepts anything.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface EmulatorOptions {
  readonly tableName: string;
  readonly bucketName: string;
  /** Keeps data in `<dataDir>/dynamodb` and `<dataDir>/s3`; without it DynamoDB is in memory and S3 uses a temporary directory removed on stop. */
  readonly dataDir?: string;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /** 0 (the default) lets the OS choose. */
  readonly dynamoPort?: number;
  readonly s3Port?: number;
  /** What the callers' IAM role lets S3 tell them (s3-access.ts); defaults to the functions' grants. */
  readonly s3Access?: S3AccessModel;
}

export type ObjectCreatedListener = (event: S3Event) => void | Promise<void>;

export interface Emulators {
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  readonly tableName: string;
  readonly bucketName: string;
  /**
   * Subscribes to `ObjectCreated:*` notifications, one record per event as S3 delivers them to
   * Lambda; returns the unsubscribe function.
   */
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  stop(): Promise<void>;
}

/**
 * The environment a function reads, pointing it at these emulators: what the local stack, the
 * bundled-handler test and the benchmarks' worker processes all run under.
 */
export const localEnvironment = (emulators: Emulators): Record<string, string> => ({
  TABLE_NAME: emulators.tableName,
  BUCKET_NAME: emulators.bucketName,
  AWS_REGION: LOCAL_REGION,
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
  AWS_ENDPOINT_URL_S3: emulators.s3Endpoint,
});

/** Starts both emulators and creates the table and the bucket when they do not exist yet. */
export const startEmulators = async (options: EmulatorOptions): Promise<Emulators> => {
  const host = options.host ?? '127.0.0.1';
  const s3Directory = options.dataDir
    ? join(options.dataDir, 's3')
    : await mkdtemp(join(tmpdir(), 'glance-s3-'));
  await mkdir(s3Directory, { recursive: true });
  if (options.dataDir) await mkdir(join(options.dataDir, 'dynamodb'), { recursive: true });

  const dynamo = dynalite({
    path: options.dataDir ? join(options.dataDir, 'dynamodb') : undefined,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  dynamo.listen(options.dynamoPort ?? 0, host);
  await once(dynamo, 'listening');
  const dynamoEndpoint = endpointOf(host, (dynamo.address() as AddressInfo).port);

  const s3 = new S3rver({
    address: host,
    port: options.s3Port ?? 0,
    directory: s3Directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucketName }],
  });
  addMultipartCalls(s3);
  addConditionalReads(s3);
  // Installed last, checked first: AWS decides access before conditions.
  enforceS3Access(s3, options.s3Access ?? defaultS3Access());
  let s3Endpoint: string;
  try {
    s3Endpoint = endpointOf(host, (await s3.run()).port);
    await ensureTable(dynamoEndpoint, options.tableName);
  } catch (error) {
    await s3.close().catch(() => {});
    await closeDynalite(dynamo);
    throw error;
  }

  const listeners = new Set<ObjectCreatedListener>();
  s3.on('event', (event: S3Event) => {
    for (const raw of event.Records) {
      if (!raw.eventName.startsWith('ObjectCreated:')) continue;
      // s3rver emits inside its request handling; S3 notifies asynchronously, so a slow or failing
      // listener must not hold up or break the upload. The uploader may still get its 200 after.
      setImmediate(() => void deliver(s3, raw, listeners));
    }
  });

  return {
    dynamoEndpoint,
    s3Endpoint,
    tableName: options.tableName,
    bucketName: options.bucketName,
    onObjectCreated(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      listeners.clear();
      await s3.close();
      await closeDynalite(dynamo);
      if (!options.dataDir) await rm(s3Directory, { recursive: true, force: true });
    },
  };
};

const endpointOf = (host: string, port: number) =>
  `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

const closeDynalite = (server: Server) =>
  new Promise<void>((resolve, reject) => {
    // dynalite's close waits for open connections and then closes LevelDB; keep-alive sockets
    // of SDK clients in this process would hold it for its 30 s timeout.
    server.close((error?: Error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });

/** Creates the single table with the key schema of shared/table.ts and waits until it is ACTIVE. */
const ensureTable = async (endpoint: string, tableName: string) => {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const { partition, sort, gsi1, gsi2, gsi3 } = TABLE_KEYS;
  const keySchema = (hash: string, range: string) => [
    { AttributeName: hash, KeyType: 'HASH' as const },
    { AttributeName: range, KeyType: 'RANGE' as const },
  ];
  const create = () =>
    client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          ...[partition, sort, gsi1.partition, gsi1.sort, gsi2.partition, gsi2.sort],
          ...[gsi3.partition, gsi3.sort],
        ].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
        KeySchema: keySchema(partition, sort),
        GlobalSecondaryIndexes: [
          ...[gsi1, gsi2].map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.partition, index.sort),
            Projection: { ProjectionType: 'ALL' as const },
          })),
          // The pending-upload index (sweeper) only needs the image ids.
          {
            IndexName: gsi3.name,
            KeySchema: keySchema(gsi3.partition, gsi3.sort),
            Projection: { ProjectionType: 'KEYS_ONLY' as const },
          },
        ],
      }),
    );
  const waitActive = async () => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE') return Table;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`table ${tableName} did not become ACTIVE`);
  };
  try {
    try {
      await create();
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    const table = await waitActive();
    const names = new Set(table.GlobalSecondaryIndexes?.map((index) => index.IndexName));
    if (![gsi1, gsi2, gsi3].every((index) => names.has(index.name))) {
      // A data dir from before an index existed: dynalite cannot add a GSI, so rebuild the table.
      await recreateTable(client, tableName, async () => {
        await create();
        await waitActive();
      });
    }
  } finally {
    client.destroy();
  }
};

/** Copies every item out, drops and recreates the table, and writes the items back (local data only). */
const recreateTable = async (client: DynamoDBClient, tableName: string, create: () => Promise<void>) => {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  // dynalite deletes asynchronously, even with deleteTableMs 0.
  for (let attempt = 0; ; attempt++) {
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) break;
      throw error;
    }
    if (attempt > 250) throw new Error(`table ${tableName} was not deleted`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await create();
  for (const item of items) await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
};

/**
 * Rewrites s3rver's record into what S3 sends: the key URL-encoded, a real ARN, an eTag for
 * copies, and sequencers that grow per write.
 */
const deliver = async (s3: S3rver, raw: S3EventRecord, listeners: Set<ObjectCreatedListener>) => {
  try {
    const { bucket, object } = raw.s3;
    let eTag = object.eTag;
    if (eTag === undefined)
      eTag = JSON.parse(String((await s3.store.getMetadata(bucket.name, object.key)).etag));
    const record: S3EventRecord = {
      ...raw,
      eventVersion: '2.1',
      s3: {
        ...raw.s3,
        bucket: { ...bucket, arn: `arn:aws:s3:::${bucket.name}` },
        object: {
          key: encodeS3EventKey(object.key),
          size: Number(object.size),
          eTag,
          sequencer: nextSequencer(),
        },
      },
    };
    for (const listener of listeners) {
      try {
        await listener({ Records: [record] });
      } catch (error) {
        // S3 → Lambda is an async invoke: a failure is logged (AWS would retry twice), never thrown at the uploader.
        console.error('ObjectCreated listener failed', error);
      }
    }
  } catch (error) {
    console.error('could not build the S3 event', error);
  }
};

/**
 * S3 event keys are form-encoded (space → `+`, `(`→`%28`, ...) with `/` left alone; decode
 * with `decodeURIComponent(key.replace(/\+/g, ' '))`.
 */
export const encodeS3EventKey = (key: string): string =>
  key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%20/g, '+'),
    )
    .join('/');

let lastSequencer = 0n;
/** Hex, fixed width, strictly increasing: S3 consumers order events for a key by it. */
const nextSequencer = (): string => {
  const now = BigInt(Date.now()) << 16n;
  lastSequencer = now > lastSequencer ? now : lastSequencer + 1n;
  return lastSequencer.toString(16).toUpperCase().padStart(18, '0');
};
