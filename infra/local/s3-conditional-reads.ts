/**
 * `If-Match` on GetObject and HeadObject, which s3rver 3.7 ignores: S3 answers 412
 * PreconditionFailed when the object is not the version named, and the data path relies on it
 * (the S3 trigger reads the version its event names; every range of a ranged read is pinned to the
 * ETag its HEAD found, so an object replaced mid-read is never hashed half old, half new).
 * Installed in front of s3rver's router, like s3-multipart.ts.
 */

/** The slice of Koa's context this middleware uses. */
interface KoaContext {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[] | undefined>;
  readonly headers: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  type: string;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface S3rverInternals {
  readonly middleware: Middleware[];
  readonly store: { getMetadata(bucket: string, key: string): Promise<{ etag?: string }> };
}

/** Query parameters of a plain object read (the SDK's `x-id`, presigning, response overrides). */
const isReadParameter = (name: string) => name === 'x-id' || /^(x-amz-|response-)/i.test(name);

const unquoted = (etag: string) => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

/** Installs the middleware; call before `run()`, which composes Koa's middleware list. */
export const addConditionalReads = (server: unknown): void => {
  const s3rver = server as S3rverInternals;
  const middleware: Middleware = async (ctx, next) => {
    const ifMatch = ctx.headers['if-match'];
    const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    const objectRead = ['GET', 'HEAD'].includes(ctx.method) && Object.keys(ctx.query).every(isReadParameter);
    if (typeof ifMatch !== 'string' || !match || !objectRead) return next();
    const bucket = decodeURIComponent(match[1] ?? '');
    const key = (match[2] ?? '').split('/').map(decodeURIComponent).join('/');
    // No object: s3rver's own 404.
    const metadata = await s3rver.store.getMetadata(bucket, key).catch(() => undefined);
    if (!metadata?.etag) return next();
    const wanted = ifMatch.split(',').map(unquoted);
    if (wanted.includes('*') || wanted.includes(unquoted(metadata.etag))) return next();
    ctx.status = 412;
    if (ctx.method === 'HEAD') return;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
      '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
      '<Condition>If-Match</Condition></Error>';
  };
  s3rver.middleware.unshift(middleware);
};
