/**
 * How the data bucket is laid out, in one place: its prefixes (which the IAM grants, the S3
 * notification filters and the lifecycle rules also use), the key scheme, and S3's own limits.
 * Pure: no AWS client.
 *
 * Every upload attempt gets a fresh random id, so each presigned URL names exactly one key of
 * exactly one image, and the S3 trigger can tell the object it waits for (`image.upload.key`)
 * from a stale attempt or a foreign object. An import writes under its task id.
 *
 *   images/<image_id>/<upload_id>    file data (`PUT /file`, `/file/presign`)
 *   staging/<image_id>/<upload_id>   staged data (`PUT /stage`, `/stage/presign`), read by import
 *   staging/<image_id>/<task_id>     web-download target of an import
 *   images/<image_id>/<task_id>      the promoted data of an imported image
 */
import { randomUUID } from 'node:crypto';
import type { PendingUpload } from '#shared/images/model';

/** Image data: what `data_key` of an active image names. */
export const DATA_PREFIX = 'images/';
/** Staged data, waiting for an import. */
export const STAGING_PREFIX = 'staging/';
/** Every prefix the service writes under: grants and notifications are limited to these. */
export const DATA_PREFIXES = [DATA_PREFIX, STAGING_PREFIX] as const;
/** The IAM / S3 wildcard pattern of everything under a prefix (`images/*`). */
export const prefixPattern = (prefix: string): string => `${prefix}*`;

/** The content type every object is stored and served with. */
export const OCTET_STREAM = 'application/octet-stream';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** S3's limits that plans, streamed uploads and copies must respect. */
export const S3_LIMITS = {
  /** Largest single PUT. */
  maxSinglePut: 5 * GiB,
  /** Largest single CopyObject. */
  maxSingleCopy: 5 * GiB,
  /** Smallest part but the last (S3 enforces it; the local s3rver does not). */
  minPartSize: 5 * MiB,
  maxPartSize: 5 * GiB,
  maxParts: 10_000,
} as const;

// ---------------------------------------------------------------------------------------------
// Uploads

export type UploadKind = PendingUpload['kind'];

const prefixOf = (kind: UploadKind) => (kind === 'file' ? DATA_PREFIX : STAGING_PREFIX);

/** A fresh upload id (the last key segment, and the `upload_id` clients see). */
export const newUploadId = (): string => randomUUID();

export const uploadKey = (kind: UploadKind, imageId: string, uploadId: string): string =>
  `${prefixOf(kind)}${imageId}/${uploadId}`;

/** The prefixes under which an image may have objects. */
export const imagePrefixes = (imageId: string): string[] =>
  DATA_PREFIXES.map((prefix) => `${prefix}${imageId}/`);

export interface ParsedKey {
  readonly kind: UploadKind;
  readonly imageId: string;
  readonly uploadId: string;
}

const KEY = /^(images|staging)\/([0-9a-f-]{36})\/([^/]+)$/;

/** What a key says, or undefined for a key outside the scheme. */
export const parseUploadKey = (key: string): ParsedKey | undefined => {
  const match = KEY.exec(key);
  if (!match) return undefined;
  return {
    kind: match[1] === 'images' ? 'file' : 'stage',
    imageId: match[2] ?? '',
    uploadId: match[3] ?? '',
  };
};

/** The upload id of a pending upload (the last segment of its key). */
export const uploadIdOf = (upload: Pick<PendingUpload, 'key'>): string => upload.key.split('/').at(-1) ?? '';

/** S3 event keys are form-encoded (`+` for space); this gives the real key. */
export const decodeS3EventKey = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));

// ---------------------------------------------------------------------------------------------
// Imports

/** Where a web-download import streams its data. */
export const stagingKeyOf = (imageId: string, taskId: string): string =>
  `${STAGING_PREFIX}${imageId}/${taskId}`;
/** Where an import promotes the verified data. */
export const imageDataKeyOf = (imageId: string, taskId: string): string =>
  `${DATA_PREFIX}${imageId}/${taskId}`;
/** Whether `key` is staged data of this image (its own stage upload or an import's download). */
export const isStagingKeyOf = (imageId: string, key: string | null | undefined): key is string =>
  typeof key === 'string' && key.startsWith(`${STAGING_PREFIX}${imageId}/`);
