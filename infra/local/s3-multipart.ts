/**
 * The multipart calls s3rver 3.7 lacks, added to it in front of its router: ListParts
 * (`GET /bucket/key?uploadId=`) and AbortMultipartUpload (`DELETE /bucket/key?uploadId=`). The
 * data path needs both: `.../complete` checks the client's part ETags against ListParts before it
 * completes, and deleting or sweeping an image aborts its pending multipart upload. They read the
 * parts s3rver keeps on disk (`<bucket>/._S3rver_uploads/<uploadId>/<n>` and `<n>.md5`).
 *
 * Other gaps of s3rver that the tests take into account: it does not verify signatures (the tests
 * read a URL's scope from the URL itself), does not enforce the 5 MiB minimum part size, does not
 * check part ETags on CompleteMultipartUpload and ignores `If-Match` / `If-None-Match` on writes.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { addS3rverMiddleware, answerXml, escapeXml, type KoaContext, objectOf } from './s3rver-middleware.ts';

const noSuchUpload = (ctx: KoaContext, uploadId: string) =>
  answerXml(
    ctx,
    404,
    `<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${escapeXml(uploadId)}</UploadId></Error>`,
  );

/** Installs the middleware; call before `run()`, which composes Koa's middleware list. */
export const addMultipartCalls = (server: unknown): void =>
  addS3rverMiddleware(server, (store) => async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    const object = objectOf(ctx.path);
    if (typeof uploadId !== 'string' || !object || !['GET', 'DELETE'].includes(ctx.method)) return next();
    const { bucket, key } = object;
    if (!/^[0-9a-f]+$/i.test(uploadId)) return noSuchUpload(ctx, uploadId);
    const dir = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const storedKey = await readFile(join(dir, 'key'), 'utf8').catch(() => undefined);
    if (storedKey !== key) return noSuchUpload(ctx, uploadId);

    if (ctx.method === 'DELETE') {
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      ctx.body = '';
      return;
    }
    const numbers = (await readdir(dir))
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => a - b);
    const parts = await Promise.all(
      numbers.map(async (number) => {
        const [info, md5] = await Promise.all([
          stat(join(dir, String(number))),
          readFile(join(dir, `${number}.md5`), 'utf8').catch(() => ''),
        ]);
        return (
          `<Part><PartNumber>${number}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified>` +
          `<ETag>&quot;${md5.trim()}&quot;</ETag><Size>${info.size}</Size></Part>`
        );
      }),
    );
    answerXml(
      ctx,
      200,
      '<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId>` +
        `<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>${numbers.at(-1) ?? 0}</NextPartNumberMarker>` +
        `<MaxParts>10000</MaxParts><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`,
    );
  });
