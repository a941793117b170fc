import { Forbidden } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { actorOf, loadVisibleImage } from '#shared/images/access';
import { applyTrigger } from '#shared/images/actions';
import { logger } from '#shared/logger';
import { canModifyImage, requireImagePolicy } from '#shared/policy';
import { config, images } from '#shared/services';
import { deleteTrigger } from '#shared/status-rules';
import { dataContext } from '#shared/uploads/data-context';
import { deleteImageObjects } from '#shared/uploads/objects';

/**
 * `DELETE /v2/images/{image_id}` (T18, T19, T23): 403 when protected; gone images are 404.
 * A deleted image's data goes with it (spec §3.5): its data, staged data, stale attempts and
 * pending multipart upload; data that arrives later is removed by the S3 trigger (T5). Delayed
 * delete (`pending_delete`) keeps the data for the scrubber.
 */
export const handler = apiHandler(async ({ caller, path }) => {
  const image = await loadVisibleImage(images, caller, path.image_id ?? '');
  requireImagePolicy(caller, image, canModifyImage, 'delete');
  if (image.protected) throw new Forbidden(`Image ${image.id} is protected and cannot be deleted.`);
  const trigger = deleteTrigger(image.status, config.delayedDelete);
  await applyTrigger(images, image, trigger, {
    actor: actorOf(caller),
    ...(image.upload ? { set: { upload: null } } : {}),
  });
  if (trigger === 'delete') {
    // After the transition, so anything still arriving is an orphan for the S3 trigger.
    await deleteImageObjects(dataContext, image).catch((error: unknown) =>
      logger.error('data of a deleted image could not be removed', {
        imageId: image.id,
        error: error as Error,
      }),
    );
  }
  return reply(204);
});
