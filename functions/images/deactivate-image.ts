import { apiHandler, reply } from '#shared/http/handler';
import { toggleActivation } from '#shared/images/actions';
import { images } from '#shared/runtime';

/** `POST /v2/images/{image_id}/actions/deactivate` (T16). */
export const handler = apiHandler(async ({ caller, path }) => {
  await toggleActivation(images(), caller, path.image_id ?? '', 'deactivate');
  return reply(204);
});
