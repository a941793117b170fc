/**
 * Where image data lives in the bucket. Every upload attempt gets a fresh random id, so each
 * presigned URL names exactly one key of exactly one image, and the S3 trigger can tell the
 * object it waits for (`image.upload.key`) from a stale attempt or a foreign object.
 *
 *   images/<image_id>/<upload_id>    file data (`PUT /file`, `/file/presign`)
 *   staging/<image_id>/<upload_id>   staged data (`PUT /stage`, `/stage/presign`), read by import
 */
import { randomUUID } from 'node:crypto';
import type { PendingUpload } from '#shared/images/model';

export type UploadKind = PendingUpload['kind'];

export const DATA_PREFIX = 'images/';
export const STAGING_PREFIX = 'staging/';

const prefixOf = (kind: UploadKind) => (kind === 'file' ? DATA_PREFIX : STAGING_PREFIX);

/** A fresh upload id (the last key segment, and the `upload_id` clients see). */
export const newUploadId = (): string => randomUUID();

export const uploadKey = (kind: UploadKind, imageId: string, uploadId: string): string =>
  `${prefixOf(kind)}${imageId}/${uploadId}`;

/** The prefixes under which an image may have objects. */
export const imagePrefixes = (imageId: string): string[] => [
  `${DATA_PREFIX}${imageId}/`,
  `${STAGING_PREFIX}${imageId}/`,
];

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
