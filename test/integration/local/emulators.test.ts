import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Emulators,
  encodeS3EventKey,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startEmulators,
} from '#infra/local/emulators';

const names = { tableName: 'glance-test', bucketName: 'glance-test-images' };
const running: Emulators[] = [];
const dirs: string[] = [];

const start = async (dataDir?: string) => {
  const emulators = await startEmulators({ ...names, dataDir });
  running.push(emulators);
  return emulators;
};
const stop = async (emulators: Emulators) => {
  running.splice(running.indexOf(emulators), 1);
  await emulators.stop();
};
afterEach(async () => {
  await Promise.all(running.splice(0).map((emulators) => emulators.stop()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const clients = (emulators: Emulators) => {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  return {
    dynamo: new DynamoDBClient({ ...common, endpoint: emulators.dynamoEndpoint }),
    s3: new S3Client({ ...common, endpoint: emulators.s3Endpoint, forcePathStyle: true }),
  };
};

describe('emulators', () => {
  it('start on OS-chosen ports with the table and its indexes, and the bucket', async () => {
    const emulators = await start();
    expect(emulators.dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulators.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { dynamo, s3 } = clients(emulators);

    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: names.tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const indexes = Table?.GlobalSecondaryIndexes?.map(({ IndexName, KeySchema, Projection }) => ({
      IndexName,
      KeySchema,
      Projection,
    }));
    expect(indexes).toEqual(
      ['gsi1', 'gsi2', 'gsi3'].map((name) => ({
        IndexName: name,
        KeySchema: [
          { AttributeName: `${name}pk`, KeyType: 'HASH' },
          { AttributeName: `${name}sk`, KeyType: 'RANGE' },
        ],
        // gsi3, the sweeper's sparse pending-upload index, only needs the keys.
        Projection: { ProjectionType: name === 'gsi3' ? 'KEYS_ONLY' : 'ALL' },
      })),
    );
    await expect(s3.send(new HeadBucketCommand({ Bucket: names.bucketName }))).resolves.toBeDefined();
    dynamo.destroy();
    s3.destroy();
  });

  it('keep table items and objects across a restart when given a data dir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'glance-local-'));
    dirs.push(dataDir);
    const first = await start(dataDir);
    let { dynamo, s3 } = clients(first);
    await dynamo.send(
      new PutItemCommand({ TableName: names.tableName, Item: { pk: { S: 'IMAGE#1' }, sk: { S: 'IMAGE' } } }),
    );
    await s3.send(new PutObjectCommand({ Bucket: names.bucketName, Key: 'images/1', Body: 'bytes' }));
    dynamo.destroy();
    s3.destroy();
    await stop(first);

    const second = await start(dataDir);
    ({ dynamo, s3 } = clients(second));
    const { Item } = await dynamo.send(
      new GetItemCommand({ TableName: names.tableName, Key: { pk: { S: 'IMAGE#1' }, sk: { S: 'IMAGE' } } }),
    );
    expect(Item?.pk?.S).toBe('IMAGE#1');
    const object = await s3.send(new GetObjectCommand({ Bucket: names.bucketName, Key: 'images/1' }));
    expect(await object.Body?.transformToString()).toBe('bytes');
    dynamo.destroy();
    s3.destroy();
  });

  it('notify ObjectCreated in S3 event shape, keys encoded as S3 does', async () => {
    const emulators = await start();
    const { s3 } = clients(emulators);
    const events: S3Event[] = [];
    const received = new Promise<void>((resolve) => {
      emulators.onObjectCreated((event) => {
        events.push(event);
        if (events.length === 2) resolve();
      });
    });
    const key = 'images/my image (1).qcow2';
    await s3.send(new PutObjectCommand({ Bucket: names.bucketName, Key: key, Body: 'hello' }));
    await s3.send(new PutObjectCommand({ Bucket: names.bucketName, Key: key, Body: 'hello again' }));
    await received;
    s3.destroy();

    const [first, second] = events.map((event) => {
      expect(event.Records).toHaveLength(1);
      return event.Records[0];
    });
    expect(first).toMatchObject({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      awsRegion: 'us-east-1',
      s3: {
        bucket: { name: names.bucketName, arn: `arn:aws:s3:::${names.bucketName}` },
        object: { key: 'images/my+image+%281%29.qcow2', size: 5, eTag: '5d41402abc4b2a76b9719d911017c592' },
      },
    });
    expect(decodeURIComponent(first?.s3.object.key.replace(/\+/g, ' ') ?? '')).toBe(key);
    expect(second?.s3.object.size).toBe(11);
    expect((second?.s3.object.sequencer ?? '') > (first?.s3.object.sequencer ?? '')).toBe(true);
  });
});

describe('encodeS3EventKey', () => {
  it('form-encodes each segment and keeps slashes', () => {
    expect(encodeS3EventKey('a b/c+d/e=f:g/ü!~*')).toBe('a+b/c%2Bd/e%3Df%3Ag/%C3%BC%21%7E*');
  });
});
