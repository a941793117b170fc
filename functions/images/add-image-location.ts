import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { IMPORT_BODY_LIMITS } from '#shared/http/json-body';
import { requestLocationImport } from '#shared/locations/add-location';
import { locationApiDeps } from '#shared/runtime';

/**
 * `POST /v2/images/{image_id}/locations` (Image API 2.17, docs/locations.md#add-location): validates, takes the import
 * lock and starts a `location_import` task that reads and verifies the data where it is. 202 with an empty body; the
 * image stays `queued` until the data is verified, then becomes `active` (or `killed`).
 */
export const handler = apiHandler(async (request) => {
  await requestLocationImport(
    locationApiDeps(),
    request.caller,
    request.path.image_id ?? '',
    jsonObjectBody(request, IMPORT_BODY_LIMITS),
    request.requestId,
  );
  return reply(202);
});
