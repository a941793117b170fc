import { apiHandler, reply } from '#shared/http/handler';
import { uploadContext } from '#shared/runtime';
import { directUpload } from '#shared/uploads/direct';

/** `PUT /v2/images/{image_id}/stage` (T6): small data to staging; 204 means uploading with its size. */
export const handler = apiHandler(async (request) => {
  await directUpload(uploadContext(), request, 'stage');
  return reply(204);
});
