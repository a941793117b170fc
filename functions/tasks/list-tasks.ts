import { Forbidden } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { ResponseBudget } from '#shared/http/response-budget';
import { canUseTasksApi } from '#shared/policy';
import { tasks } from '#shared/runtime';
import { listTasks, parseListTasksQuery, taskPageLinks } from '#shared/tasks/listing';
import { taskStubView } from '#shared/tasks/view';

/**
 * `GET /v2/tasks` (admin only): every project's unexpired tasks(), newest first by default, from
 * the all-tasks index partition; `status`/`type` filters, `marker`, `limit`, `sort_key`, `sort_dir`.
 * A page ends early, with `next`, rather than exceed the response limit.
 */
export const handler = apiHandler(async ({ caller, query, event }) => {
  if (!canUseTasksApi(caller)) throw new Forbidden('You are not authorized to list tasks.');
  const budget = new ResponseBudget();
  const page = await listTasks(tasks(), parseListTasksQuery(query), new Date(), (task) =>
    budget.admit(taskStubView(task)),
  );
  return reply(200, {
    tasks: page.tasks.map(taskStubView),
    ...taskPageLinks(event.rawQueryString ?? '', page.nextMarker),
    schema: '/v2/schemas/tasks',
  });
});
