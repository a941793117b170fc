/**
 * `If-Match` on GetObject and HeadObject, which s3rver 3.7 ignores: S3 answers 412
 * PreconditionFailed when the object is not the version named, and the data path relies on it
 * (the S3 trigger reads the version its event names; every range of a ranged read is pinned to the
 * ETag its HEAD found, so an object replaced mid-read is never hashed half old, half new).
 * Installed in front of s3rver's router, like s3-multipart.ts.
 */
import { addS3rverMiddleware, answerXml, objectOf } from './s3rver-middleware.ts';

/** Query parameters of a plain object read (the SDK's `x-id`, presigning, response overrides). */
const isReadParameter = (name: string) => name === 'x-id' || /^(x-amz-|response-)/i.test(name);

const unquoted = (etag: string) => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

/** Installs the middleware; call before `run()`, which composes Koa's middleware list. */
export const addConditionalReads = (server: unknown): void =>
  addS3rverMiddleware(server, (store) => async (ctx, next) => {
    const ifMatch = ctx.headers['if-match'];
    const object = objectOf(ctx.path);
    const objectRead = ['GET', 'HEAD'].includes(ctx.method) && Object.keys(ctx.query).every(isReadParameter);
    if (typeof ifMatch !== 'string' || !object || !objectRead) return next();
    // No object: s3rver's own 404.
    const metadata = await store.getMetadata(object.bucket, object.key).catch(() => undefined);
    if (!metadata?.etag) return next();
    const wanted = ifMatch.split(',').map(unquoted);
    if (wanted.includes('*') || wanted.includes(unquoted(metadata.etag))) return next();
    answerXml(
      ctx,
      412,
      '<Error><Code>PreconditionFailed</Code>' +
        '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
        '<Condition>If-Match</Condition></Error>',
    );
  });
