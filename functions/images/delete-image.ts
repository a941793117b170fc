import { Forbidden } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { actorOf } from '#shared/images/access';
import { applyTrigger } from '#shared/images/actions';
import { withFreshImage } from '#shared/images/edit';
import { logger } from '#shared/logger';
import { canModifyImage, requireImagePolicy } from '#shared/policy';
import { imagesAndMembers, objectStore, serviceConfig } from '#shared/runtime';
import { deleteTrigger } from '#shared/status-rules';

/**
 * `DELETE /v2/images/{image_id}` (T18, T19, T23): 403 when protected; gone images are 404.
 * A deleted image's data goes with it (docs/api.md#delete): its data, staged data, stale attempts and
 * pending multipart upload; data that arrives later is removed by the S3 trigger (T5). Delayed
 * delete (`pending_delete`) keeps the data for the scrubber. Its members go in both cases
 * (docs/api.md#members).
 */
export const handler = apiHandler(async ({ caller, path }) => {
  const { delayedDelete } = serviceConfig();
  // A race with an edit, an upload's finalisation or the sweeper is retried on the fresh image.
  const { image, trigger } = await withFreshImage(
    imagesAndMembers(),
    caller,
    path.image_id ?? '',
    async (current, membership) => {
      requireImagePolicy(caller, current, canModifyImage, 'delete', membership);
      if (current.protected) throw new Forbidden(`Image ${current.id} is protected and cannot be deleted.`);
      const chosen = deleteTrigger(current.status, delayedDelete);
      await applyTrigger(imagesAndMembers(), current, chosen, { actor: actorOf(caller) });
      return { image: current, trigger: chosen };
    },
  );
  // After the transition: a gone image grants nothing already, so this is only tidying up.
  await imagesAndMembers()
    .members.removeAll(image.id)
    .catch((error: unknown) =>
      logger.error('members of a deleted image could not be removed', {
        imageId: image.id,
        error: error as Error,
      }),
    );
  if (trigger === 'delete') {
    // After the transition, so anything still arriving is an orphan for the S3 trigger.
    await objectStore()
      .deleteImageObjects(image)
      .catch((error: unknown) =>
        logger.error('data of a deleted image could not be removed', {
          imageId: image.id,
          error: error as Error,
        }),
      );
  }
  return reply(204);
});
