import { completeHandler } from '#shared/http/upload-handlers';
import { uploadContext } from '#shared/runtime';

/** `POST /v2/images/{image_id}/stage/complete`: assembles the staged multipart upload. */
export const handler = completeHandler('stage', uploadContext);
