/**
 * The presign and complete API handlers, one per kind (file, stage), built the same way: parse the
 * body, load the image for the upload, call the data path. The four function entries name the kind
 * and pass the runtime's upload context (and, to complete, the runtime's completion queue).
 */
import type { UploadKind } from '#shared/storage/bucket';
import { type Completions, completeUpload } from '#shared/uploads/complete';
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

/**
 * `POST .../complete`: 202 once the request is checked and the assembly queued; the completion
 * function assembles, the S3 trigger finalises the object (docs/uploads.md#completing-a-multipart-upload).
 */
export const completeHandler = (
  kind: UploadKind,
  context: () => UploadContext,
  completions: () => Completions,
) =>
  apiHandler(async (request) => {
    const ctx = context();
    const queue = completions();
    const body = parseCompleteBody(request.body);
    const image = await loadImageForUpload(ctx.images, request.caller, request.path.image_id ?? '', kind);
    await completeUpload(ctx, queue, image, kind, body);
    return reply(202, { image_id: image.id, upload_id: body.uploadId, status: image.status });
  });
