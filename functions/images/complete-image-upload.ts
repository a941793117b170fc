import { completeHandler } from '#shared/http/upload-handlers';
import { uploadContext } from '#shared/runtime';

/** `POST /v2/images/{image_id}/file/complete`: assembles the multipart upload; the S3 trigger finalises. */
export const handler = completeHandler('file', uploadContext);
