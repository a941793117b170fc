import { Forbidden, NotFound } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { isUuid } from '#shared/images/access';
import { canUseTasksApi } from '#shared/policy';
import { tasks } from '#shared/runtime';
import { taskView } from '#shared/tasks/view';

/** `GET /v2/tasks/{task_id}` (admin only, `tasks_api_access`): the task with input, result, message. */
export const handler = apiHandler(async ({ caller, path }) => {
  if (!canUseTasksApi(caller)) throw new Forbidden('You are not authorized to access tasks.');
  const id = path.task_id ?? '';
  const task = isUuid(id) ? await tasks().get(id.toLowerCase()) : undefined;
  if (!task) throw new NotFound(`Failed to find task ${id}.`);
  return reply(200, taskView(task));
});
