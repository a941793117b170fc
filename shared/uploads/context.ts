/**
 * What the data-path code works with, in one object: the image repository, the S3 client and
 * bucket, the size limits and the upload settings. Functions pass `dataContext` (built once per
 * container from `shared/services.ts`); the logic modules only see the interface.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DataLimits } from '#shared/data/limits';
import type { ImageRepository } from '#shared/images/repository';
import type { UploadSettings } from './settings.ts';

export interface DataContext {
  readonly images: ImageRepository;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly limits: DataLimits;
  readonly settings: UploadSettings;
}

/** Who history records for transitions made by the S3 trigger and by the sweeper. */
export const TRIGGER_ACTOR = 'system:s3-trigger';
export const SWEEPER_ACTOR = 'system:sweeper';
