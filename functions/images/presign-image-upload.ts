import { presignHandler } from '#shared/http/upload-handlers';
import { uploadContext } from '#shared/runtime';

/** `POST /v2/images/{image_id}/file/presign` (T2, decision D5): queued → saving, presigned PUT or multipart URLs. */
export const handler = presignHandler('file', uploadContext);
