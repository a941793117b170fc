/**
 * The object-storage layer: every S3 call of the service but presigning (presign.ts), on the one
 * bucket, keyed as bucket.ts says. Reads, in-memory puts and deletes for the data path; the
 * multipart calls behind presigned uploads; a streamed upload of unknown length (web-download) and
 * a server-side copy of any size (promote) for the import. Missing objects are answers
 * (`undefined`), not errors; bytes never stay in memory beyond one part.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  type Part,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { PendingUpload } from '#shared/images/model';
import { logger } from '#shared/logger';
import { imagePrefixes, OCTET_STREAM, S3_LIMITS } from './bucket.ts';
import {
  type FetchRange,
  RANGED_READ,
  type RangedReadOptions,
  rangedChunks,
  ShortRange,
} from './ranged-read.ts';

const MiB = 1024 ** 2;

/** Whether an S3 error is one of `names` (error names, or HTTP status codes as strings). */
export const isS3Error = (error: unknown, ...names: string[]): boolean =>
  error instanceof S3ServiceException &&
  (names.includes(error.name) || names.includes(String(error.$metadata.httpStatusCode)));

/** No such object (or no such key): an answer, not a failure. */
export const isMissingObject = (error: unknown): boolean => isS3Error(error, 'NoSuchKey', 'NotFound', '404');

/**
 * S3 refused the request (403). For a read of a key this is also how S3 answers a missing key to
 * a role without `s3:ListBucket` on the bucket; infra/grants.ts gives readers that permission, so
 * here it is never "missing" but a permission to fix, and says so.
 */
export class ObjectAccessDenied extends Error {
  constructor(operation: string, bucket: string, key: string, options?: ErrorOptions) {
    super(
      `S3 answered 403 to ${operation} of s3://${bucket}/${key}: the function's role lacks a permission ` +
        '(s3:GetObject on the key, or s3:ListBucket on the bucket, without which a missing key answers 403, not 404).',
      options,
    );
    this.name = 'ObjectAccessDenied';
  }
}

const isAccessDenied = (error: unknown): boolean => isS3Error(error, 'AccessDenied', 'Forbidden', '403');

/** A conditional request (`If-Match`, `If-None-Match`) whose condition did not hold. */
export const isPreconditionFailed = (error: unknown): boolean =>
  isS3Error(error, 'PreconditionFailed', '412');

/**
 * Worth reading the same range again: anything but an S3 answer below 500 (a missing object, a
 * failed `If-Match`, a bad range), which the next try would get again.
 */
const isRetryableRead = (error: unknown): boolean =>
  !(error instanceof S3ServiceException && (error.$metadata.httpStatusCode ?? 500) < 500);

/** An object opened for a ranged read (`ObjectStore.openRanged`). */
export interface RangedObject {
  readonly size: number;
  readonly etag: string | null;
  /**
   * The object's bytes in order, from ranged GETs pinned to `etag` (a newer write makes the read
   * fail with `isPreconditionFailed`); `signal` stops it and aborts the requests in flight.
   * Opened with `reuseBuffers`, a chunk is the consumer's only until it asks for the next.
   */
  readonly chunks: (signal?: AbortSignal) => AsyncIterable<Uint8Array>;
}

export type RangedOpenOptions = Pick<RangedReadOptions, 'rangeBytes' | 'window' | 'attempts'> & {
  /** Only this version: S3 answers 412 (`isPreconditionFailed`) if the object is another one. */
  readonly ifMatch?: string;
  /**
   * Fill the same window + 1 range buffers over and over: a chunk is the consumer's only until it
   * asks for the next one, so only for a consumer done with each chunk by then (the verify pass
   * hashes or copies it). A fresh buffer per range would put the whole object through the
   * allocator, and every range kept for a while (the window) makes V8 run full collections over
   * the whole heap; reused buffers cost none (docs/uploads.md#ranged-reads).
   */
  readonly reuseBuffers?: boolean;
};

export interface ObjectHead {
  readonly size: number;
  readonly etag: string | null;
  readonly lastModified: Date;
}

export class ObjectStore {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** The object's size, ETag and last-modified time, or undefined when there is none. */
  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: head.ContentLength ?? 0,
        etag: head.ETag ?? null,
        lastModified: head.LastModified ?? new Date(0),
      };
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      if (isAccessDenied(error))
        throw new ObjectAccessDenied('HeadObject', this.bucket, key, { cause: error });
      throw error;
    }
  }

  /** The object's size, or undefined when there is none. */
  async size(key: string): Promise<number | undefined> {
    return (await this.head(key))?.size;
  }

  /**
   * The object's bytes as a stream and its ETag, or undefined when there is none. With `ifMatch`,
   * only that version is read: a newer write makes S3 answer 412 (`isPreconditionFailed`).
   */
  async read(
    key: string,
    options: { ifMatch?: string } = {},
  ): Promise<{ body: AsyncIterable<Uint8Array>; etag: string | null } | undefined> {
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: options.ifMatch }),
      );
      if (!object.Body) throw new Error(`S3 returned no body for ${key}`);
      return { body: object.Body as AsyncIterable<Uint8Array>, etag: object.ETag ?? null };
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      if (isAccessDenied(error))
        throw new ObjectAccessDenied('GetObject', this.bucket, key, { cause: error });
      throw error;
    }
  }

  /**
   * The object's size and ETag, and a reader of its bytes with several ranged GETs in flight
   * (ranged-read.ts, docs/uploads.md#ranged-reads); undefined when there is no object. Every range
   * is pinned to the ETag the HEAD found, so the bytes read are one version of the object.
   */
  async openRanged(key: string, options: RangedOpenOptions = {}): Promise<RangedObject | undefined> {
    let head: { ContentLength?: number; ETag?: string };
    try {
      head = await this.s3.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: options.ifMatch }),
      );
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      if (isAccessDenied(error))
        throw new ObjectAccessDenied('HeadObject', this.bucket, key, { cause: error });
      throw error;
    }
    const size = head.ContentLength ?? 0;
    const etag = head.ETag ?? null;
    const rangeBytes = options.rangeBytes ?? RANGED_READ.rangeBytes;
    /** Fetches a range into `bytes` (one buffer per range, filled as the body arrives: held once, not twice). */
    const fetchInto = async (start: number, end: number, signal: AbortSignal, bytes: Buffer) => {
      const object = await this.s3.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: `bytes=${start}-${end - 1}`,
          IfMatch: etag ?? options.ifMatch,
        }),
        { abortSignal: signal },
      );
      if (!object.Body) throw new Error(`S3 returned no body for ${key}`);
      let received = 0;
      for await (const chunk of object.Body as AsyncIterable<Uint8Array>) {
        if (received + chunk.byteLength <= bytes.byteLength) bytes.set(chunk, received);
        received += chunk.byteLength;
      }
      if (received !== bytes.byteLength) throw new ShortRange(start, bytes.byteLength, received);
      return bytes;
    };
    const fresh: FetchRange = (start, end, signal) =>
      fetchInto(start, end, signal, Buffer.allocUnsafe(end - start));
    return {
      size,
      etag,
      chunks: (signal) => {
        const read = { ...options, retryable: isRetryableRead, ...(signal ? { signal } : {}) };
        if (!options.reuseBuffers) return rangedChunks(size, fresh, read);
        // At most window + 1 range buffers, filled again and again: see `reuseBuffers`.
        const free: ArrayBuffer[] = [];
        const reused: FetchRange = async (start, end, signal) => {
          const buffer = free.pop() ?? Buffer.allocUnsafeSlow(rangeBytes).buffer;
          try {
            return await fetchInto(start, end, signal, Buffer.from(buffer, 0, end - start));
          } catch (error) {
            free.push(buffer);
            throw error;
          }
        };
        const recycle = (chunk: Uint8Array) => {
          if (chunk.buffer instanceof ArrayBuffer && chunk.buffer.byteLength === rangeBytes)
            free.push(chunk.buffer);
        };
        return rangedChunks(size, reused, { ...read, recycle });
      },
    };
  }

  /**
   * Stores a body held in memory under a key that must not exist yet (`If-None-Match: *`), with
   * its MD5 checked by S3.
   */
  async putNew(key: string, body: Uint8Array, md5Hex: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.byteLength,
        ContentMD5: Buffer.from(md5Hex, 'hex').toString('base64'),
        ContentType: OCTET_STREAM,
        IfNoneMatch: '*',
      }),
    );
  }

  /** Deletes objects; missing ones are fine (S3 DeleteObject is idempotent). */
  async delete(keys: Iterable<string>): Promise<void> {
    await Promise.all(
      [...new Set(keys)].map((key) =>
        this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
      ),
    );
  }

  /**
   * Removes everything an image has in the bucket (decision D2, docs/api.md#delete): every object under its
   * data and staging prefixes (current data, staged data, stale attempts) and its pending multipart
   * upload. Objects that arrive later are removed by the S3 trigger, which finds the image deleted.
   * Returns how many objects were deleted; throws when S3 refused to delete any (after trying all),
   * so a caller that can come back (the scrubber) does.
   */
  async deleteImageObjects(image: { id: string; upload: PendingUpload | null }): Promise<number> {
    if (image.upload?.multipart_upload_id) {
      await this.abortMultipart(image.upload.key, image.upload.multipart_upload_id);
    }
    let deleted = 0;
    let failed = 0;
    for (const prefix of imagePrefixes(image.id)) {
      let token: string | undefined;
      do {
        const page = await this.s3.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
        if (keys.length) {
          const result = await this.s3.send(
            new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }),
          );
          if (result.Errors?.length) {
            logger.error('could not delete image objects', { imageId: image.id, errors: result.Errors });
            failed += result.Errors.length;
          }
          deleted += keys.length - (result.Errors?.length ?? 0);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    }
    if (failed) throw new Error(`${failed} object(s) of image ${image.id} could not be deleted.`);
    return deleted;
  }

  // -------------------------------------------------------------------------------------------
  // Multipart uploads whose parts a client sends through presigned URLs

  /** Creates a multipart upload; returns its id. */
  async createMultipartUpload(key: string): Promise<string> {
    const { UploadId } = await this.s3.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: OCTET_STREAM }),
    );
    if (!UploadId) throw new Error('S3 returned no UploadId');
    return UploadId;
  }

  /** Every part uploaded so far (ListParts, all pages). */
  async listParts(key: string, uploadId: string): Promise<Part[]> {
    const parts: Part[] = [];
    let marker: string | undefined;
    do {
      const page = await this.s3.send(
        new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
      );
      parts.push(...(page.Parts ?? []));
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return parts;
  }

  /** Assembles the parts into the object; never replaces an object already there (`If-None-Match: *`). */
  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<void> {
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: `"${part.etag}"` })),
        },
        IfNoneMatch: '*',
      }),
    );
  }

  /** Aborts a multipart upload; one that is already gone (completed, aborted) is fine. */
  async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.s3.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      );
    } catch (error) {
      if (!isS3Error(error, 'NoSuchUpload', '404')) throw error;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Streams and copies (the import)

  /**
   * Writes a stream of unknown length: one PutObject when it fits in the first part, else a
   * multipart upload whose part size doubles every 1,000 parts (S3 allows 10,000), so any size
   * up to 5 TiB fits with at most one part in memory. A failure aborts the multipart upload.
   */
  async upload(
    key: string,
    chunks: AsyncIterable<Uint8Array>,
    options: { partSize?: number } = {},
  ): Promise<number> {
    let partSize = options.partSize ?? 16 * MiB;
    let buffered: Uint8Array[] = [];
    let bufferedBytes = 0;
    let total = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];

    const flush = async () => {
      const body = Buffer.concat(buffered, bufferedBytes);
      buffered = [];
      bufferedBytes = 0;
      if (uploadId === undefined) {
        const created = await this.s3.send(
          new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }),
        );
        uploadId = created.UploadId;
      }
      const PartNumber = parts.length + 1;
      const { ETag } = await this.s3.send(
        new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber, Body: body }),
      );
      parts.push({ ETag: ETag ?? '', PartNumber });
      if (parts.length % 1000 === 0) partSize = Math.min(partSize * 2, S3_LIMITS.maxPartSize);
    };

    try {
      for await (const chunk of chunks) {
        buffered.push(chunk);
        bufferedBytes += chunk.byteLength;
        total += chunk.byteLength;
        if (bufferedBytes >= partSize) await flush();
      }
      if (uploadId === undefined) {
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: Buffer.concat(buffered, bufferedBytes),
            ContentLength: bufferedBytes,
          }),
        );
        return total;
      }
      if (bufferedBytes > 0) await flush();
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      return total;
    } catch (error) {
      if (uploadId !== undefined) {
        await this.s3
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
          .catch(() => {});
      }
      throw error;
    }
  }

  /**
   * Server-side copy: CopyObject up to 5 GiB (S3's limit for it), above that a multipart upload
   * of UploadPartCopy ranges, several at a time. No byte passes through the function.
   */
  async copy(
    source: string,
    destination: string,
    size: number,
    options: {
      singleCopyLimit?: number;
      partSize?: number;
      concurrency?: number;
      ifMatch?: string | null;
    } = {},
  ): Promise<void> {
    const copySource = `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`;
    // Only the version that was verified may be copied (a reused presigned URL could replace it).
    const CopySourceIfMatch = options.ifMatch ?? undefined;
    if (size <= (options.singleCopyLimit ?? S3_LIMITS.maxSingleCopy)) {
      await this.s3.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: destination,
          CopySource: copySource,
          CopySourceIfMatch,
        }),
      );
      return;
    }
    const partSize = Math.max(options.partSize ?? 512 * MiB, Math.ceil(size / S3_LIMITS.maxParts));
    const count = Math.ceil(size / partSize);
    const created = await this.s3.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: destination }),
    );
    const uploadId = created.UploadId;
    try {
      const etags: string[] = new Array(count);
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const index = next++;
          const start = index * partSize;
          const end = Math.min(size, start + partSize) - 1;
          const result = await this.s3.send(
            new UploadPartCopyCommand({
              Bucket: this.bucket,
              Key: destination,
              UploadId: uploadId,
              PartNumber: index + 1,
              CopySource: copySource,
              CopySourceIfMatch,
              CopySourceRange: `bytes=${start}-${end}`,
            }),
          );
          etags[index] = result.CopyPartResult?.ETag ?? '';
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, count) }, worker));
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: destination,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
        }),
      );
    } catch (error) {
      await this.s3
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: destination, UploadId: uploadId }))
        .catch(() => {});
      throw error;
    }
  }
}
