/**
 * What the local stack's additions to s3rver share (s3-access.ts, s3-conditional-reads.ts,
 * s3-multipart.ts): the slice of Koa's context and of s3rver's store they use, how a middleware
 * goes in front of s3rver's router, the object a path names, and S3's XML answers.
 */

/** The slice of Koa's context the middlewares use. */
export interface KoaContext {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[] | undefined>;
  readonly querystring: string;
  readonly headers: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  type: string;
}
export type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/** The slice of s3rver's filesystem store the middlewares use. */
export interface S3rverStore {
  existsObject(bucket: string, key: string): Promise<boolean>;
  getMetadata(bucket: string, key: string): Promise<{ etag?: string }>;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}

interface S3rverInternals {
  readonly middleware: Middleware[];
  readonly store: S3rverStore;
}

/**
 * Puts the middleware `make` returns in front of s3rver's router (and of the additions installed
 * before it); call before `run()`, which composes Koa's middleware list.
 */
export const addS3rverMiddleware = (server: unknown, make: (store: S3rverStore) => Middleware): void => {
  const s3rver = server as S3rverInternals;
  s3rver.middleware.unshift(make(s3rver.store));
};

/** The bucket and key a path-style object path names, decoded; undefined for a bucket path. */
export const objectOf = (path: string): { readonly bucket: string; readonly key: string } | undefined => {
  const match = /^\/([^/]+)\/(.+)$/.exec(path);
  if (!match) return undefined;
  return {
    bucket: decodeURIComponent(match[1] ?? ''),
    key: (match[2] ?? '').split('/').map(decodeURIComponent).join('/'),
  };
};

export const escapeXml = (value: string): string =>
  value.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);

/** An S3 XML answer; a HEAD gets the status alone, as S3 sends no body to it. */
export const answerXml = (ctx: KoaContext, status: number, body: string): void => {
  ctx.status = status;
  if (ctx.method === 'HEAD') {
    ctx.body = '';
    return;
  }
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
};
