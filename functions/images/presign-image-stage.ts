import { presignHandler } from '#shared/http/upload-handlers';
import { uploadContext } from '#shared/runtime';

/** `POST /v2/images/{image_id}/stage/presign` (T6, decision D5): queued → uploading, presigned URLs. */
export const handler = presignHandler('stage', uploadContext);
