/** The module-scope `UploadContext` of a function, from the container's singletons. */
import { config, images, s3 } from '#shared/services';
import { ObjectStore } from '#shared/storage/object-store';
import type { UploadContext } from './context.ts';
import { uploadSettings } from './settings.ts';

export const dataContext: UploadContext = {
  images,
  store: new ObjectStore(s3, config.bucketName),
  limits: config.limits,
  settings: uploadSettings,
};
