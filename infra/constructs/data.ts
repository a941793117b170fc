import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { STAGING_PREFIX } from '#shared/storage/bucket';
import { TABLE_KEYS, TTL_ATTRIBUTE } from '#shared/table';
import { MAX_MULTIPART_SECONDS, MULTIPART_LIFECYCLE_DAYS } from '#shared/uploads/lifetime';

export interface DataProps {
  /** Days after which staged data (`staging/`) expires: orphans, and staged data never imported. */
  readonly stagingExpirationDays?: number;
  /**
   * Days after which incomplete multipart uploads are aborted (the sweeper aborts them sooner);
   * must exceed the longest multipart upload lifetime (shared/uploads/lifetime.ts).
   */
  readonly abortIncompleteUploadsDays?: number;
  /** Days the image bucket's access logs are kept. */
  readonly accessLogDays?: number;
}

/**
 * Where the service keeps its state: the single DynamoDB table (images and tasks, keys in
 * `shared/table.ts`) and the image-data bucket. Both are retained when the stack is deleted,
 * because they hold user data that a redeploy must not lose.
 */
export class Data extends Construct {
  readonly table: Table;
  readonly bucket: Bucket;
  /** The image bucket's server access logs. */
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: DataProps = {}) {
    super(scope, id);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Items with an expiry (the S3 trigger's idempotency records) are removed by DynamoDB.
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // Every write's before and after, for the transition events (decision B2).
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of [TABLE_KEYS.gsi1, TABLE_KEYS.gsi2]) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partition, type: AttributeType.STRING },
        sortKey: { name: index.sort, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }
    // Sparse pending-upload index for the sweeper (decision D2): ids only.
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_KEYS.gsi3.name,
      partitionKey: { name: TABLE_KEYS.gsi3.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.gsi3.sort, type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });

    // A multipart upload's deadline (re-signs included) ends an hour before this lifetime, so the
    // lifecycle never aborts an upload an image still waits for (shared/uploads/lifetime.ts).
    const abortDays = props.abortIncompleteUploadsDays ?? MULTIPART_LIFECYCLE_DAYS;
    if (abortDays * 24 * 3600 <= MAX_MULTIPART_SECONDS) {
      throw new Error(
        `abortIncompleteUploadsDays (${abortDays}) must leave more than the ${MAX_MULTIPART_SECONDS} s a multipart upload may last.`,
      );
    }
    // Who read or wrote which image object: presigned requests are the bucket's main traffic,
    // and only server access logs record them.
    this.accessLogs = new Bucket(this, 'AccessLogBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(props.accessLogDays ?? 90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new Bucket(this, 'ImageBucket', {
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'image-bucket/',
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      lifecycleRules: [
        {
          id: 'AbortIncompleteMultipartUploads',
          abortIncompleteMultipartUploadAfter: Duration.days(abortDays),
        },
        {
          id: 'ExpireStagedData',
          prefix: STAGING_PREFIX,
          expiration: Duration.days(props.stagingExpirationDays ?? 30),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
