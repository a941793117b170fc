/** Loading an image for an upload, the same way for direct, presigned and multipart uploads. */
import type { Caller } from '#shared/auth';
import { ENABLED_IMPORT_METHODS } from '#shared/discovery';
import { NotFound } from '#shared/errors';
import { loadImageAccess } from '#shared/images/access';
import type { ImageRecord } from '#shared/images/model';
import type { ImageRepository } from '#shared/images/repository';
import { canModifyImage, requireImagePolicy } from '#shared/policy';
import type { UploadKind } from '#shared/storage/bucket';

/**
 * The image the caller may upload data to (404 when invisible, 403 by policy); staging answers
 * 404 when the glance-direct import method is not enabled, as in Glance.
 */
export const loadImageForUpload = async (
  images: ImageRepository,
  caller: Caller,
  imageId: string,
  kind: UploadKind,
): Promise<ImageRecord> => {
  const { image, membership } = await loadImageAccess(images, caller, imageId);
  const action = kind === 'file' ? 'upload data to' : 'stage data for';
  requireImagePolicy(caller, image, canModifyImage, action, membership);
  if (kind === 'stage' && !ENABLED_IMPORT_METHODS.includes('glance-direct')) {
    throw new NotFound('The glance-direct import method is not enabled.');
  }
  return image;
};
