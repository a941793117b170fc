import { apiHandler, reply } from '#shared/http/handler';
import { loadVisibleImage } from '#shared/images/access';
import { images, tasks } from '#shared/runtime';
import { imageTaskView, isExpired } from '#shared/tasks/view';

/**
 * `GET /v2/images/{image_id}/tasks` (docs/api.md#tasks): 404 when the caller cannot see the image; its
 * unexpired tasks that the caller may see (admin, or the task's own project), oldest first, as
 * raw records.
 */
export const handler = apiHandler(async ({ caller, path }) => {
  const image = await loadVisibleImage(images(), caller, path.image_id ?? '');
  const now = new Date();
  const visible = (await tasks().listByImage(image.id)).filter(
    (task) => !isExpired(task, now) && (caller.isAdmin || task.owner === caller.projectId),
  );
  return reply(200, { tasks: visible.map(imageTaskView) });
});
