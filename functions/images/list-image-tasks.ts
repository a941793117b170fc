import { BadRequest } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { withinBudget } from '#shared/http/response-budget';
import { loadVisibleImage } from '#shared/images/access';
import { imageReads, tasks } from '#shared/runtime';
import { imageTaskView, isExpired } from '#shared/tasks/view';

/**
 * `GET /v2/images/{image_id}/tasks` (docs/api.md#tasks): 404 when the caller cannot see the image; its
 * unexpired tasks that the caller may see (admin, or the task's own project), oldest first, as
 * raw records. Glance has no paging here; a list that would pass the response limit ends with a
 * `next` link whose `marker` continues after the last task shown (decision D12).
 */
export const handler = apiHandler(async ({ caller, path, query }) => {
  const image = await loadVisibleImage(imageReads(), caller, path.image_id ?? '');
  const now = new Date();
  const visible = (await tasks().listByImage(image.id)).filter(
    (task) => !isExpired(task, now) && (caller.isAdmin || task.owner === caller.projectId),
  );
  const marker = query.get('marker')?.toLowerCase();
  const start = marker === undefined ? 0 : visible.findIndex((task) => task.id === marker) + 1;
  if (start === 0 && marker !== undefined) {
    throw new BadRequest(`Invalid marker. Task ${marker} could not be found.`);
  }
  const page = withinBudget(visible.slice(start), imageTaskView);
  const last = page.entries.at(-1);
  return reply(200, {
    tasks: page.entries.map(imageTaskView),
    ...(page.cut && last ? { next: `/v2/images/${image.id}/tasks?marker=${last.id}` } : {}),
  });
});
