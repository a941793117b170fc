import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
const c = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async () => c.config.region;
