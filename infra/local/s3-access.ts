/**
 * What IAM changes in S3's answers, for the local s3rver (which checks no permissions): a GET or
 * HEAD of a missing key answers 404 only when the caller may `s3:ListBucket` the bucket; without
 * that permission S3 answers 403 (AccessDenied), so a role cannot learn which keys exist.
 * A `s3:prefix` condition does not help: a GetObject or HeadObject request carries no prefix, so
 * the condition never matches it (docs/local-development.md#s3-permissions).
 *
 * The local stack is configured like the functions' roles with `S3AccessModel`; the tests derive
 * it from the synthesized policies with `listBucketAllowed`, so a grant that would make AWS
 * answer 403 makes the local S3 answer 403 too.
 */
import { addS3rverMiddleware, answerXml, objectOf } from './s3rver-middleware.ts';
/** Read on every request, so a test may change it on a running stack. */
export interface S3AccessModel {
  /** Whether the caller may ListBucket the whole bucket, without conditions. */
  listBucket: boolean;
  /**
   * Buckets (by name) where the answer differs from `listBucket`: a role may list the service
   * bucket and not another bucket it reads locations from (docs/locations.md#configuration).
   */
  buckets?: Record<string, boolean>;
}

/** What the functions' roles get from infra/grants.ts: unconditional ListBucket for readers. */
export const defaultS3Access = (): S3AccessModel => ({ listBucket: true });

/** One statement of an IAM policy document as CloudFormation holds it. */
export interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource?: unknown;
  readonly Condition?: unknown;
}

const matchesAction = (pattern: string, action: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action);

/** The bucket itself, not objects in it: object ARNs (and CloudFormation joins building them) have a `/`. */
const isBucketResource = (resource: unknown) => resource === '*' || !JSON.stringify(resource).includes('/');

/** `arn:<partition>:s3:::<bucket>`, as a string or the last piece of a CloudFormation join. */
const namesBucket = (resource: unknown, bucket: string) =>
  resource === '*' || JSON.stringify(resource).includes(`:s3:::${bucket}"`);

/**
 * Whether statements allow `s3:ListBucket` on a bucket for a request that carries no
 * `s3:prefix` (a GetObject or HeadObject): an Allow naming the action (or a wildcard covering
 * it) on a resource that is not an object ARN, without a condition. With `bucket`, the resource
 * must be that bucket's literal ARN (how infra/locations.ts names another bucket); without it,
 * any bucket resource counts (the service bucket's ARN is a CloudFormation reference).
 */
export const listBucketAllowed = (statements: readonly PolicyStatement[], bucket?: string): boolean =>
  statements.some(
    (statement) =>
      statement.Effect === 'Allow' &&
      statement.Condition === undefined &&
      [statement.Action].flat().some((action) => matchesAction(action, 's3:ListBucket')) &&
      [statement.Resource]
        .flat()
        .some((resource) =>
          bucket === undefined ? isBucketResource(resource) : namesBucket(resource, bucket),
        ),
  );

/** Installs the model in front of s3rver's router; call before `run()`. */
export const enforceS3Access = (server: unknown, access: S3AccessModel): void =>
  addS3rverMiddleware(server, (store) => async (ctx, next) => {
    const object = objectOf(ctx.path);
    // Object reads only; subresources (?uploadId, ?acl...) keep s3rver's answers.
    if (!object || !['GET', 'HEAD'].includes(ctx.method) || ctx.querystring.includes('uploadId'))
      return next();
    if (access.buckets?.[object.bucket] ?? access.listBucket) return next();
    if (await store.existsObject(object.bucket, object.key)) return next();
    answerXml(ctx, 403, '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
  });
