/**
 * AWS SDK v3 clients, built the same way on Lambda and in the local stack. Locally the standard
 * `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` variables point them at the emulators; the
 * SDK reads those itself, we only switch S3 to path-style addressing for a local endpoint.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const createDocumentClient = (
  endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB,
): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(new DynamoDBClient(endpoint ? { endpoint } : {}), {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });

export const createS3Client = (endpoint = process.env.AWS_ENDPOINT_URL_S3): S3Client =>
  new S3Client({
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // Presigned URLs must not carry checksum parameters the uploader cannot know in advance.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
