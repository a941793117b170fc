import { apiHandler, reply } from '#shared/http/handler';
import { loadVisibleImage } from '#shared/images/access';
import { toggleActivation } from '#shared/images/actions';
import { images } from '#shared/services';

/** `POST /v2/images/{image_id}/actions/reactivate` (T17). */
export const handler = apiHandler(async ({ caller, path }) => {
  const image = await loadVisibleImage(images, caller, path.image_id ?? '');
  await toggleActivation(images, caller, image, 'reactivate');
  return reply(204);
});
