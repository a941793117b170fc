import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { IMPORT_BODY_LIMITS } from '#shared/http/json-body';
import { requestImport } from '#shared/import/start-import';
import { importApiDeps } from '#shared/runtime';

/**
 * `POST /v2/images/{image_id}/import` (docs/import-workflow.md#import-api): glance-direct or web-download. Validates in
 * Glance's order, takes the import lock, creates the pending task and starts its workflow
 * execution (named after the task). 202 with an empty body; clients poll the image and
 * `GET /v2/images/{image_id}/tasks`.
 */
export const handler = apiHandler(async (request) => {
  await requestImport(
    importApiDeps(),
    request.caller,
    request.path.image_id ?? '',
    jsonObjectBody(request, IMPORT_BODY_LIMITS),
    request.requestId,
  );
  return reply(202);
});
