import { completeHandler } from '#shared/http/upload-handlers';
import { completions, uploadContext } from '#shared/runtime';

/** `POST /v2/images/{image_id}/stage/complete`: checks the staged parts and queues the assembly (202). */
export const handler = completeHandler('stage', uploadContext, completions);
