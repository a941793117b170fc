import { Forbidden } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { canUseTasksApi } from '#shared/policy';
import { tasks } from '#shared/runtime';
import { listTasks, parseListTasksQuery, taskPageLinks } from '#shared/tasks/listing';
import { taskStubView } from '#shared/tasks/view';

/**
 * `GET /v2/tasks` (admin only): every project's unexpired tasks(), newest first by default, from
 * the all-tasks index partition; `status`/`type` filters, `marker`, `limit`, `sort_key`, `sort_dir`.
 */
export const handler = apiHandler(async ({ caller, query, event }) => {
  if (!canUseTasksApi(caller)) throw new Forbidden('You are not authorized to list tasks.');
  const page = await listTasks(tasks(), parseListTasksQuery(query));
  return reply(200, {
    tasks: page.tasks.map(taskStubView),
    ...taskPageLinks(event.rawQueryString ?? '', page.nextMarker),
    schema: '/v2/schemas/tasks',
  });
});
