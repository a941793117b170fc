/**
 * A multipart upload's deadline stays strictly before the bucket's lifecycle aborts it
 * (shared/uploads/lifetime.ts), however often it is re-signed.
 */

import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { readUploadSettings } from '#shared/config';
import { DEFAULT_IMAGE_FORMAT_POLICY } from '#shared/image-format/decision';
import type { ImageRecord, PendingUpload } from '#shared/images/model';
import type { ImageRepository } from '#shared/images/repository';
import { ObjectStore } from '#shared/storage/object-store';
import type { UploadContext } from '#shared/uploads/context';
import { MAX_MULTIPART_SECONDS, MULTIPART_LIFECYCLE_DAYS, uploadDeadline } from '#shared/uploads/lifetime';
import { presignUpload } from '#shared/uploads/presign';
import { member, queuedImage } from '#test/helpers/images';

const HOUR = 3600_000;
const T0 = new Date('2026-01-05T10:00:00.000Z');
const lifecycleEnd = T0.getTime() + MULTIPART_LIFECYCLE_DAYS * 24 * HOUR;
const UPLOAD_ID = '6b0c4c57-52a4-4f4e-9a55-0c7e2d1b6f10';

const multipart = (image: ImageRecord): PendingUpload => ({
  kind: 'file',
  key: `images/${image.id}/${UPLOAD_ID}`,
  declared_size: 300 * 1024 ** 2,
  deadline: new Date(T0.getTime() + 24.25 * HOUR).toISOString(),
  multipart_upload_id: 'mpu-1',
  part_size: 100 * 1024 ** 2,
  started_at: T0.toISOString(),
});

/** Re-signs the upload at each of `times`, as the client of a long resumable upload would. */
const resignAt = async (times: readonly Date[]): Promise<string[]> => {
  const base = queuedImage();
  let image: ImageRecord = { ...base, status: 'saving', upload: multipart(base) };
  const images = {
    update: async (current: ImageRecord, changes: Partial<ImageRecord>) => {
      image = { ...current, ...changes, version: current.version + 1 };
      return image;
    },
  } as unknown as ImageRepository;
  const ctx: UploadContext = {
    images,
    store: new ObjectStore(
      new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      'bucket',
    ),
    limits: { sizeCap: 1024 ** 4 },
    settings: readUploadSettings(),
    formatPolicy: DEFAULT_IMAGE_FORMAT_POLICY,
  };
  const deadlines: string[] = [];
  for (const now of times) {
    await presignUpload(
      ctx,
      member(),
      image,
      'file',
      { kind: 'resign', uploadId: UPLOAD_ID, partNumbers: [1] },
      now,
    );
    deadlines.push(image.upload?.deadline ?? '');
  }
  return deadlines;
};

describe('the multipart upload lifetime', () => {
  it('ends before the lifecycle rule aborts the upload', () => {
    expect(T0.getTime() + MAX_MULTIPART_SECONDS * 1000).toBeLessThan(lifecycleEnd);
    expect(readUploadSettings().multipartGraceSeconds).toBeLessThanOrEqual(MAX_MULTIPART_SECONDS);
  });

  it('extends the deadline on re-sign, but never past the lifetime from the start', async () => {
    const deadlines = await resignAt([
      new Date(T0.getTime() + 12 * HOUR),
      new Date(T0.getTime() + 30 * HOUR),
      new Date(T0.getTime() + 46.9 * HOUR),
    ]);
    expect(Date.parse(deadlines[0] ?? '')).toBe(T0.getTime() + (12 + 24.25) * HOUR);
    for (const deadline of deadlines.slice(1)) {
      expect(Date.parse(deadline)).toBe(T0.getTime() + MAX_MULTIPART_SECONDS * 1000);
      expect(Date.parse(deadline)).toBeLessThan(lifecycleEnd);
    }
  });

  it('caps a new multipart upload too, but not a single PUT', () => {
    const week = 7 * 24 * 3600;
    expect(uploadDeadline({ multipart_upload_id: 'm', started_at: T0.toISOString() }, T0, week)).toBe(
      new Date(T0.getTime() + MAX_MULTIPART_SECONDS * 1000).toISOString(),
    );
    expect(uploadDeadline({}, T0, week)).toBe(new Date(T0.getTime() + week * 1000).toISOString());
  });
});
