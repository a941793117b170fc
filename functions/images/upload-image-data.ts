import { apiHandler, reply } from '#shared/http/handler';
import { dataContext } from '#shared/uploads/data-context';
import { directUpload } from '#shared/uploads/direct';

/** `PUT /v2/images/{image_id}/file` (T2, T3): small data straight through; 204 means active. */
export const handler = apiHandler(async (request) => {
  await directUpload(dataContext, request, 'file');
  return reply(204);
});
