/**
 * Presigned URLs on the bucket (decisions D5, D6): each names exactly one key, expires within
 * `expiresIn` seconds and signs the headers that pin what may be sent.
 */
import { GetObjectCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { OCTET_STREAM } from './bucket.ts';
import type { ObjectStore } from './object-store.ts';

/**
 * A single PUT of `key`. `If-None-Match: *` is signed, so the object cannot be overwritten once
 * written; with a size, `Content-Length` is signed too (S3 then refuses any other length). The
 * headers returned must be sent exactly.
 */
export const presignPut = async (
  store: ObjectStore,
  key: string,
  size: number | null,
  expiresIn: number,
): Promise<{ url: string; headers: Record<string, string> }> => {
  const command = new PutObjectCommand({
    Bucket: store.bucket,
    Key: key,
    IfNoneMatch: '*',
    ...(size === null ? {} : { ContentLength: size }),
  });
  const url = await getSignedUrl(store.s3, command, {
    expiresIn,
    signableHeaders: new Set(size === null ? ['if-none-match'] : ['content-length', 'if-none-match']),
    unhoistableHeaders: new Set(['if-none-match']),
  });
  return {
    url,
    headers: { 'If-None-Match': '*', ...(size === null ? {} : { 'Content-Length': String(size) }) },
  };
};

/** An UploadPart URL that signs the part's exact length. */
export const presignUploadPart = (
  store: ObjectStore,
  part: { key: string; uploadId: string; partNumber: number; size: number },
  expiresIn: number,
): Promise<string> =>
  getSignedUrl(
    store.s3,
    new UploadPartCommand({
      Bucket: store.bucket,
      Key: part.key,
      UploadId: part.uploadId,
      PartNumber: part.partNumber,
      ContentLength: part.size,
    }),
    { expiresIn, signableHeaders: new Set(['content-length']) },
  );

/** A GET of `key`, always served as octet-stream (S3 serves ranges). */
export const presignGet = (store: ObjectStore, key: string, expiresIn: number): Promise<string> =>
  getSignedUrl(
    store.s3,
    new GetObjectCommand({ Bucket: store.bucket, Key: key, ResponseContentType: OCTET_STREAM }),
    { expiresIn },
  );
