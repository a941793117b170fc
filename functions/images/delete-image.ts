import { Forbidden } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { actorOf, loadVisibleImage } from '#shared/images/access';
import { applyTrigger } from '#shared/images/actions';
import { canModifyImage, requireImagePolicy } from '#shared/policy';
import { config, images } from '#shared/services';
import { deleteTrigger } from '#shared/status-rules';

/** `DELETE /v2/images/{image_id}` (T18, T19, T23): 403 when protected; gone images are 404. */
export const handler = apiHandler(async ({ caller, path }) => {
  const image = await loadVisibleImage(images, caller, path.image_id ?? '');
  requireImagePolicy(caller, image, canModifyImage, 'delete');
  if (image.protected) throw new Forbidden(`Image ${image.id} is protected and cannot be deleted.`);
  await applyTrigger(images, image, deleteTrigger(image.status, config.delayedDelete), {
    actor: actorOf(caller),
  });
  return reply(204);
});
