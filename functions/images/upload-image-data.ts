import { apiHandler, reply } from '#shared/http/handler';
import { uploadContext } from '#shared/runtime';
import { directUpload } from '#shared/uploads/direct';

/** `PUT /v2/images/{image_id}/file` (T2, T3): small data straight through; 204 means active. */
export const handler = apiHandler(async (request) => {
  await directUpload(uploadContext(), request, 'file');
  return reply(204);
});
