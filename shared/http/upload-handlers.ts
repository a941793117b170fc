/**
 * The presign and complete API handlers, one per kind (file, stage), built the same way: parse the
 * body, load the image for the upload, call the data path. The four function entries name the kind
 * and pass the runtime's upload context.
 */
import type { UploadKind } from '#shared/storage/bucket';
import { completeUpload } from '#shared/uploads/complete';
import type { UploadContext } from '#shared/uploads/context';
import { loadImageForUpload } from '#shared/uploads/load';
import { parseCompleteBody, parsePresignBody } from '#shared/uploads/plan';
import { presignUpload } from '#shared/uploads/presign';
import { apiHandler, reply } from './handler.ts';

/** `POST .../presign`: 200 with the plan (see shared/uploads/presign.ts). */
export const presignHandler = (kind: UploadKind, context: () => UploadContext) =>
  apiHandler(async (request) => {
    const ctx = context();
    const body = parsePresignBody(request.body, ctx.settings.maxPartUrls);
    const image = await loadImageForUpload(ctx.images, request.caller, request.path.image_id ?? '', kind);
    return reply(200, await presignUpload(ctx, request.caller, image, kind, body));
  });

/** `POST .../complete`: 202, the S3 trigger finalises the assembled object. */
export const completeHandler = (kind: UploadKind, context: () => UploadContext) =>
  apiHandler(async (request) => {
    const ctx = context();
    const body = parseCompleteBody(request.body);
    const image = await loadImageForUpload(ctx.images, request.caller, request.path.image_id ?? '', kind);
    await completeUpload(ctx, image, kind, body);
    return reply(202, { image_id: image.id, upload_id: body.uploadId, status: image.status });
  });
