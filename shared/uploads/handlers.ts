/** The presign and complete API handlers, one per kind (file, stage), built the same way. */
import { ENABLED_IMPORT_METHODS } from '#shared/discovery';
import { NotFound } from '#shared/errors';
import { apiHandler, type Request, reply } from '#shared/http/handler';
import { loadVisibleImage } from '#shared/images/access';
import { canModifyImage, requireImagePolicy } from '#shared/policy';
import type { UploadKind } from '#shared/storage/bucket';
import { completeUpload } from './complete.ts';
import { dataContext } from './data-context.ts';
import { parseCompleteBody, parsePresignBody } from './plan.ts';
import { presignUpload } from './presign.ts';

const loadForUpload = async (request: Request, kind: UploadKind) => {
  const image = await loadVisibleImage(dataContext.images, request.caller, request.path.image_id ?? '');
  requireImagePolicy(
    request.caller,
    image,
    canModifyImage,
    kind === 'file' ? 'upload data to' : 'stage data for',
  );
  if (kind === 'stage' && !ENABLED_IMPORT_METHODS.includes('glance-direct')) {
    throw new NotFound('The glance-direct import method is not enabled.');
  }
  return image;
};

/** `POST .../presign`: 200 with the plan (see shared/uploads/presign.ts). */
export const presignHandler = (kind: UploadKind) =>
  apiHandler(async (request) => {
    const body = parsePresignBody(request.body, dataContext.settings.maxPartUrls);
    const image = await loadForUpload(request, kind);
    return reply(200, await presignUpload(dataContext, request.caller, image, kind, body));
  });

/** `POST .../complete`: 202, the S3 trigger finalises the assembled object. */
export const completeHandler = (kind: UploadKind) =>
  apiHandler(async (request) => {
    const body = parseCompleteBody(request.body);
    const image = await loadForUpload(request, kind);
    await completeUpload(dataContext, image, kind, body);
    return reply(202, { image_id: image.id, upload_id: body.uploadId, status: image.status });
  });
