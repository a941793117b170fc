import { apiHandler, reply } from '#shared/http/handler';
import { dataContext } from '#shared/uploads/data-context';
import { directUpload } from '#shared/uploads/direct';

/** `PUT /v2/images/{image_id}/stage` (T6): small data to staging; 204 means uploading with its size. */
export const handler = apiHandler(async (request) => {
  await directUpload(dataContext, request, 'stage');
  return reply(204);
});
