/**
 * S3 object housekeeping of the data path: deleting orphans and a deleted image's data, aborting
 * multipart uploads, and checking whether an upload's object arrived.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { PendingUpload } from '#shared/images/model';
import { logger } from '#shared/logger';
import type { DataContext } from './context.ts';
import { imagePrefixes } from './keys.ts';

type S3Context = Pick<DataContext, 's3' | 'bucket'>;

const isS3Error = (error: unknown, ...names: string[]): boolean =>
  error instanceof S3ServiceException &&
  (names.includes(error.name) || names.includes(String(error.$metadata.httpStatusCode)));

export const deleteObject = async (ctx: S3Context, key: string): Promise<void> => {
  await ctx.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key }));
};

/** Aborts a multipart upload; one that is already gone (completed, aborted) is fine. */
export const abortMultipart = async (ctx: S3Context, key: string, uploadId: string): Promise<void> => {
  try {
    await ctx.s3.send(new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key: key, UploadId: uploadId }));
  } catch (error) {
    if (!isS3Error(error, 'NoSuchUpload', '404')) throw error;
  }
};

/** The object's last-modified time and size, or undefined when there is no such object. */
export const headObject = async (
  ctx: S3Context,
  key: string,
): Promise<{ lastModified: Date; size: number } | undefined> => {
  try {
    const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }));
    return { lastModified: head.LastModified ?? new Date(0), size: head.ContentLength ?? 0 };
  } catch (error) {
    if (isS3Error(error, 'NotFound', 'NoSuchKey', '404')) return undefined;
    throw error;
  }
};

export const isMissingObject = (error: unknown): boolean => isS3Error(error, 'NoSuchKey', 'NotFound', '404');
export const isPreconditionFailed = (error: unknown): boolean =>
  isS3Error(error, 'PreconditionFailed', '412');
export { isS3Error };

/**
 * Removes everything an image has in the bucket (decision D2, spec §3.5): every object under its
 * data and staging prefixes (current data, staged data, stale attempts) and its pending multipart
 * upload. Objects that arrive later are removed by the S3 trigger, which finds the image deleted.
 */
export const deleteImageObjects = async (
  ctx: S3Context,
  image: { id: string; upload: PendingUpload | null },
): Promise<number> => {
  if (image.upload?.multipart_upload_id) {
    await abortMultipart(ctx, image.upload.key, image.upload.multipart_upload_id);
  }
  let deleted = 0;
  for (const prefix of imagePrefixes(image.id)) {
    let token: string | undefined;
    do {
      const page = await ctx.s3.send(
        new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
      if (keys.length) {
        const result = await ctx.s3.send(
          new DeleteObjectsCommand({ Bucket: ctx.bucket, Delete: { Objects: keys, Quiet: true } }),
        );
        if (result.Errors?.length) {
          logger.error('could not delete image objects', { imageId: image.id, errors: result.Errors });
        }
        deleted += keys.length - (result.Errors?.length ?? 0);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return deleted;
};
