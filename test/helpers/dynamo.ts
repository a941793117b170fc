import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Emulators, LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators } from '#infra/local/emulators';
import { ImageRepository } from '#shared/images/repository';
import { MemberRepository } from '#shared/members/repository';

export interface DynamoFixture {
  readonly emulators: Emulators;
  readonly doc: DynamoDBDocumentClient;
  readonly images: ImageRepository<MemberRepository>;
  stop(): Promise<void>;
}

/** Real dynalite on port 0 with the service's table, and a repository on the real SDK client. */
export const startDynamo = async (): Promise<DynamoFixture> => {
  const emulators = await startEmulators({ tableName: 'glance-test', bucketName: 'glance-test' });
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: emulators.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return {
    emulators,
    doc,
    images: new ImageRepository(doc, emulators.tableName, new MemberRepository(doc, emulators.tableName)),
    stop: () => emulators.stop(),
  };
};
