import { completeHandler } from '#shared/http/upload-handlers';
import { completions, uploadContext } from '#shared/runtime';

/** `POST /v2/images/{image_id}/file/complete`: checks the parts and queues the assembly (202); the S3 trigger finalises. */
export const handler = completeHandler('file', uploadContext, completions);
