/** The module-scope `DataContext` of a function, from the container's singletons. */
import { config, images, s3 } from '#shared/services';
import type { DataContext } from './context.ts';
import { uploadSettings } from './settings.ts';

export const dataContext: DataContext = {
  images,
  s3,
  bucket: config.bucketName,
  limits: config.limits,
  settings: uploadSettings,
};
