import { apiHandler, reply } from '#shared/http/handler';
import { loadImageAccess } from '#shared/images/access';
import { historyView } from '#shared/images/view';
import { canReadImageHistory, requireImagePolicy } from '#shared/policy';
import { images } from '#shared/runtime';

/** `GET /v2/images/{image_id}/history`: every transition with actor and reason (decision B1); owner project and admins only. */
export const handler = apiHandler(async ({ caller, path }) => {
  const { image, membership } = await loadImageAccess(images(), caller, path.image_id ?? '');
  requireImagePolicy(caller, image, canReadImageHistory, 'read the history of', membership);
  return reply(200, historyView(image));
});
