import { completeHandler } from '#shared/uploads/handlers';

/** `POST /v2/images/{image_id}/stage/complete`: assembles the staged multipart upload. */
export const handler = completeHandler('stage');
