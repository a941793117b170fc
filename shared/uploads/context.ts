/**
 * What the data-path code works with, in one object: the image repository, the object store, the
 * size limits, the upload settings and the disk-format rules. Functions pass the one built by the runtime wiring; the
 * logic modules only see the interface.
 */

import type { UploadSettings } from '#shared/config';
import type { DataLimits } from '#shared/data/limits';
import type { ImageFormatPolicy } from '#shared/image-format/decision';
import type { ImageRepository } from '#shared/images/repository';
import type { ObjectStore } from '#shared/storage/object-store';

export interface UploadContext {
  readonly images: ImageRepository;
  readonly store: ObjectStore;
  readonly limits: DataLimits;
  readonly settings: UploadSettings;
  /** Glance's `[image_format]` options (docs/image-formats.md#configuration). */
  readonly formatPolicy: ImageFormatPolicy;
}

/** Who history records for transitions made by the S3 trigger and by the sweeper... */
export const TRIGGER_ACTOR = 'system:s3-trigger';
export const SWEEPER_ACTOR = 'system:sweeper';
/** ...and for the completion function's, when S3 will not assemble an upload's parts. */
export const COMPLETER_ACTOR = 'system:complete-upload';
