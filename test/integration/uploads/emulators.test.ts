/**
 * What the data path added to the local emulators: the multipart calls s3rver lacks (ListParts,
 * AbortMultipartUpload) and the rebuild of a table from an older data dir that lacks an index.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators } from '#infra/local/emulators';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

describe('s3rver multipart additions', () => {
  it('lists parts with their ETags and sizes, aborts uploads, and 404s unknown ones', async () => {
    const emulators = await startEmulators({ tableName: 'mp-test', bucketName: 'mp-bucket' });
    const s3 = new S3Client({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: emulators.s3Endpoint,
      forcePathStyle: true,
    });
    try {
      const Bucket = 'mp-bucket';
      const Key = 'images/a b/c';
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      const one = await s3.send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'hello ' }),
      );
      const two = await s3.send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: 'world' }),
      );
      const { Parts } = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
      expect(Parts?.map(({ PartNumber, ETag, Size }) => ({ PartNumber, ETag, Size }))).toEqual([
        { PartNumber: 1, ETag: one.ETag, Size: 6 },
        { PartNumber: 2, ETag: two.ETag, Size: 5 },
      ]);
      await expect(
        s3.send(new ListPartsCommand({ Bucket, Key: 'images/other', UploadId })),
      ).rejects.toMatchObject({
        name: 'NoSuchUpload',
      });
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: [one, two].map((part, i) => ({ PartNumber: i + 1, ETag: part.ETag })) },
        }),
      );
      const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
      expect(await object.Body?.transformToString()).toBe('hello world');

      const aborted = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'staging/x' }));
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket, Key: 'staging/x', UploadId: aborted.UploadId }),
      );
      await expect(
        s3.send(new ListPartsCommand({ Bucket, Key: 'staging/x', UploadId: aborted.UploadId })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    } finally {
      s3.destroy();
      await emulators.stop();
    }
  });
});

describe('table from an older data dir', () => {
  it('is rebuilt with the pending-upload index, items kept', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'glance-old-'));
    dirs.push(dataDir);
    await mkdir(join(dataDir, 'dynamodb'), { recursive: true });
    const old: Server = dynalite({ path: join(dataDir, 'dynamodb'), createTableMs: 0 });
    old.listen(0, '127.0.0.1');
    await once(old, 'listening');
    const oldClient = new DynamoDBClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: `http://127.0.0.1:${(old.address() as AddressInfo).port}`,
    });
    const key = (name: string, type: 'HASH' | 'RANGE') => ({ AttributeName: name, KeyType: type });
    await oldClient.send(
      new CreateTableCommand({
        TableName: 'glance-old',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
        KeySchema: [key('pk', 'HASH'), key('sk', 'RANGE')],
        GlobalSecondaryIndexes: ['gsi1', 'gsi2'].map((name) => ({
          IndexName: name,
          KeySchema: [key(`${name}pk`, 'HASH'), key(`${name}sk`, 'RANGE')],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
    // dynalite creates tables asynchronously, even with createTableMs 0.
    for (;;) {
      const { Table } = await oldClient.send(new DescribeTableCommand({ TableName: 'glance-old' }));
      if (Table?.TableStatus === 'ACTIVE') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await oldClient.send(
      new PutItemCommand({
        TableName: 'glance-old',
        Item: { pk: { S: 'IMAGE#1' }, sk: { S: 'IMAGE' }, name: { S: 'kept' } },
      }),
    );
    oldClient.destroy();
    await new Promise<void>((resolve) => {
      old.close(() => resolve());
      old.closeAllConnections();
    });

    const emulators = await startEmulators({ tableName: 'glance-old', bucketName: 'glance-old', dataDir });
    const client = new DynamoDBClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: emulators.dynamoEndpoint,
    });
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: 'glance-old' }));
      expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual([
        'gsi1',
        'gsi2',
        'gsi3',
      ]);
      const { Item } = await client.send(
        new GetItemCommand({ TableName: 'glance-old', Key: { pk: { S: 'IMAGE#1' }, sk: { S: 'IMAGE' } } }),
      );
      expect(Item?.name?.S).toBe('kept');
    } finally {
      client.destroy();
      await emulators.stop();
    }
  });
});
