import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { DATA_PREFIX, DATA_PREFIXES, prefixPattern, STAGING_PREFIX } from '#shared/storage/bucket';
import type { GlanceFunction } from './constructs/glance-function.ts';
import type { Route } from './routes.ts';

/** How much of the table a function may touch. */
export type TableAccess = 'none' | 'read' | 'readWrite';

/**
 * What a function may do with image data, always limited to the data prefixes (`images/*`,
 * `staging/*`). `read` includes ListBucket on the bucket, without conditions: without it S3
 * answers a read of a missing key with 403 instead of 404, and the finaliser and sweeper must tell
 * "gone" apart. A `s3:prefix` condition would not do: a GetObject or HeadObject request carries no
 * prefix, so S3 would still answer 403 (infra/local/s3-access.ts reproduces this locally).
 * `write` covers PutObject, CreateMultipartUpload, UploadPart and CompleteMultipartUpload (and thus
 * the URLs the function presigns); `multipart` is ListParts and AbortMultipartUpload; `parts` is
 * ListParts alone.
 */
export type BucketAccess = 'read' | 'write' | 'delete' | 'list' | 'multipart' | 'parts';

/** What one route's function is allowed to do. */
export interface RouteGrants {
  readonly table: TableAccess;
  /** Absent or empty: no S3 access at all. */
  readonly bucket?: readonly BucketAccess[];
}

/** Bucket access of the data-path routes (decisions D5, D6); every other route has none. */
export const DATA_ROUTE_GRANTS: Readonly<Record<string, readonly BucketAccess[]>> = {
  /** Direct upload: PutObject; a refused upload's object is deleted. */
  UploadImageData: ['write', 'delete'],
  StageImageData: ['write', 'delete'],
  /** Signs the GET URL. */
  DownloadImageData: ['read'],
  /** Signs PUT / UploadPart URLs, creates the multipart upload, aborts a race loser's. */
  PresignImageUpload: ['write', 'multipart'],
  PresignImageStage: ['write', 'multipart'],
  /** ListParts to check the ETags; the completion function assembles (COMPLETE_GRANTS). */
  CompleteImageUpload: ['parts'],
  CompleteImageStage: ['parts'],
  /** Lists and deletes the image's objects, aborts its pending multipart upload. */
  DeleteImage: ['list', 'delete', 'multipart'],
  /** HeadObject of a staged object the S3 trigger has not recorded yet (glance-direct). */
  ImportImage: ['read'],
};

/** The S3 trigger: reads and deletes, nothing else (issue: "read/delete on the bucket only"). */
export const FINALISE_GRANTS: RouteGrants = { table: 'readWrite', bucket: ['read', 'delete'] };
/** The sweeper: HeadObject, re-drives finalisation, aborts multipart uploads; the scrubber lists and deletes a scrubbed image's objects. */
export const SWEEP_GRANTS: RouteGrants = {
  table: 'readWrite',
  bucket: ['read', 'list', 'delete', 'multipart'],
};

/**
 * The completion function: reads the image, lists the parts and completes the upload (PutObject
 * is what CompleteMultipartUpload requires); parts S3 will not assemble are aborted and the image
 * goes back to queued (shared/uploads/complete.ts).
 */
export const COMPLETE_GRANTS: RouteGrants = { table: 'readWrite', bucket: ['write', 'multipart'] };

const BUCKET_ACTIONS: Readonly<Record<Exclude<BucketAccess, 'list'>, readonly string[]>> = {
  read: ['s3:GetObject'],
  write: ['s3:PutObject'],
  delete: ['s3:DeleteObject'],
  multipart: ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  parts: ['s3:ListMultipartUploadParts'],
};

/** Authenticated routes that only serve static documents, so they need no data at all. */
const STATIC_ROUTES: ReadonlySet<string> = new Set(['GetSchema', 'GetMetadefSchema', 'GetImportInfo']);

/**
 * The one place that decides a route's permissions (least privilege): the discovery documents get
 * nothing, GET/HEAD routes read the table, every other method reads and writes it.
 */
export const grantsFor = (route: Route): RouteGrants => {
  if (!route.auth || STATIC_ROUTES.has(route.name)) return { table: 'none' };
  return {
    table: route.method === 'GET' || route.method === 'HEAD' ? 'read' : 'readWrite',
    ...(DATA_ROUTE_GRANTS[route.name] ? { bucket: DATA_ROUTE_GRANTS[route.name] } : {}),
  };
};

/** The resources grants can point at. */
export interface GrantTargets {
  readonly table: ITable;
  readonly bucket: IBucket;
}

/** Turns a route's `RouteGrants` into IAM statements on its function. */
export const applyGrants = (fn: GlanceFunction, grants: RouteGrants, targets: GrantTargets): void => {
  if (grants.table === 'read') fn.grantImagesRead(targets.table);
  if (grants.table === 'readWrite') fn.grantImagesWrite(targets.table);
  applyBucketGrants(fn, grants.bucket ?? [], targets.bucket, DATA_PREFIXES);
};

/**
 * Bucket access of the import's functions (docs/import-workflow.md#state-machine), per prefix:
 * Mark heads a glance-direct import's staged object when the S3 trigger has not recorded it yet
 * (HeadObject needs GetObject; `read`'s ListBucket makes a missing object 404, not 403); Fetch
 * writes the staged object (streamed, multipart) or finds the uploaded one; Verify reads it;
 * Promote copies it to the image's data key and removes it; the failure branch and the
 * execution-ended cleanup remove what an import left. Every one also reads and writes the table.
 * test/infra/import/definition.test.ts ties each function's S3 calls to these grants.
 */
export const IMPORT_GRANTS: Readonly<
  Record<string, { readonly staging?: readonly BucketAccess[]; readonly data?: readonly BucketAccess[] }>
> = {
  Mark: { staging: ['read'] },
  Fetch: { staging: ['read', 'write', 'multipart'] },
  Verify: { staging: ['read'] },
  Promote: { staging: ['read', 'delete'], data: ['read', 'write', 'multipart'] },
  FailImport: { staging: ['delete'], data: ['delete'] },
  ExecutionEnded: { staging: ['delete'], data: ['delete'] },
};

/** An import function's grants: the table, and its bucket access per prefix. */
export const applyImportGrants = (fn: GlanceFunction, name: string, targets: GrantTargets): void => {
  fn.grantImagesWrite(targets.table);
  const grants = IMPORT_GRANTS[name];
  if (grants?.staging) applyBucketGrants(fn, grants.staging, targets.bucket, [STAGING_PREFIX]);
  if (grants?.data) applyBucketGrants(fn, grants.data, targets.bucket, [DATA_PREFIX]);
};

/**
 * One statement for object actions on the given prefixes; ListBucket on the whole bucket for
 * readers (a missing key must answer 404), limited to the prefixes for the others.
 */
const applyBucketGrants = (
  fn: GlanceFunction,
  access: readonly BucketAccess[],
  bucket: IBucket,
  prefixes: readonly string[],
): void => {
  const wanted = new Set(access);
  const objectActions = [
    ...new Set([...wanted].flatMap((kind) => (kind === 'list' ? [] : BUCKET_ACTIONS[kind]))),
  ];
  if (objectActions.length) {
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: objectActions,
        resources: prefixes.map((prefix) => bucket.arnForObjects(prefixPattern(prefix))),
      }),
    );
  }
  if (wanted.has('read')) {
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
      }),
    );
  } else if (wanted.has('list')) {
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.map(prefixPattern) } },
      }),
    );
  }
};
