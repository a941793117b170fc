/**
 * The S3 operations of the import workflow: where its objects live, a streamed upload of
 * unknown length (web-download), a server-side copy of any size (promote), and idempotent
 * reads and deletes. Bytes never stay in memory beyond one part.
 *
 *   staging/<image_id>/<task_id>   web-download target (glance-direct reads the image's own staged key)
 *   images/<image_id>/<task_id>    the promoted data of an imported image
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { ImageRecord } from '#shared/images/model';
import { DATA_PREFIX, STAGING_PREFIX } from '#shared/uploads/keys';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** S3's limits for one PUT/CopyObject and for multipart uploads. */
export const S3_OBJECT_LIMITS = {
  maxSingleCopy: 5 * GiB,
  minPartSize: 5 * MiB,
  maxPartSize: 5 * GiB,
  maxParts: 10_000,
} as const;

export const stagingKeyOf = (imageId: string, taskId: string): string =>
  `${STAGING_PREFIX}${imageId}/${taskId}`;
export const imageDataKeyOf = (imageId: string, taskId: string): string =>
  `${DATA_PREFIX}${imageId}/${taskId}`;
export const isStagingKeyOf = (imageId: string, key: string | null | undefined): key is string =>
  typeof key === 'string' && key.startsWith(`${STAGING_PREFIX}${imageId}/`);

/**
 * Whether a glance-direct import can start: the staged data has arrived. `uploading` also means
 * "stage presigned, data not arrived yet" (`upload` set, `data_key` null); only an image with no
 * upload in flight and a `data_key` naming a staged object of its own has data to import.
 */
export const hasStagedData = (image: Pick<ImageRecord, 'id' | 'upload' | 'data_key'>): boolean =>
  image.upload === null && isStagingKeyOf(image.id, image.data_key);

export const noStagedDataMessage = (imageId: string): string =>
  `Image ${imageId} has no staged data yet; finish the upload first.`;

const isNotFound = (error: unknown): boolean => {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'NotFound' || name === 'NoSuchKey' || $metadata?.httpStatusCode === 404;
};

export class ObjectStore {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** The object's size and ETag, or undefined when there is none. */
  async head(key: string): Promise<{ size: number; etag: string | null } | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: head.ContentLength ?? 0, etag: head.ETag ?? null };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The object's size, or undefined when there is none. */
  async size(key: string): Promise<number | undefined> {
    return (await this.head(key))?.size;
  }

  /** The object's bytes as a stream and its ETag, or undefined when there is none. */
  async read(key: string): Promise<{ body: AsyncIterable<Uint8Array>; etag: string | null } | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { body: object.Body as AsyncIterable<Uint8Array>, etag: object.ETag ?? null };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
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
      if (parts.length % 1000 === 0) partSize = Math.min(partSize * 2, S3_OBJECT_LIMITS.maxPartSize);
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
    if (size <= (options.singleCopyLimit ?? S3_OBJECT_LIMITS.maxSingleCopy)) {
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
    const partSize = Math.max(options.partSize ?? 512 * MiB, Math.ceil(size / S3_OBJECT_LIMITS.maxParts));
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
