import { Forbidden } from '#shared/errors';
import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { IMPORT_BODY_LIMITS } from '#shared/http/json-body';
import { createImportTask } from '#shared/import/start-import';
import { canUseTasksApi } from '#shared/policy';
import { taskApiDeps } from '#shared/runtime';
import { taskView } from '#shared/tasks/view';

/**
 * `POST /v2/tasks` (admin only, deprecated in Glance): an `import` task creates a new image from
 * `input.image_properties` and imports `input.import_from` through the import workflow.
 * 201 with the pending task and `Location: /v2/tasks/{id}`. The policy is checked before the
 * body is even read, as Glance's deserializer does.
 */
export const handler = apiHandler(async (request) => {
  if (!canUseTasksApi(request.caller)) throw new Forbidden('You are not authorized to create tasks.');
  const task = await createImportTask(
    taskApiDeps(),
    request.caller,
    jsonObjectBody(request, IMPORT_BODY_LIMITS),
    request.requestId,
  );
  return reply(201, taskView(task), { Location: `/v2/tasks/${task.id}` });
});
