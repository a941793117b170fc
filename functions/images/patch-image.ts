import { apiHandler, jsonBody, reply } from '#shared/http/handler';
import { parsePatch, patchDialect } from '#shared/images/patch';
import { imageView } from '#shared/images/view';
import { patchImage } from '#shared/locations/legacy-patch';
import { images, locationSettings, uriFilter } from '#shared/runtime';

/**
 * `PATCH /v2/images/{image_id}`: all operations or none, saved once, conditionally; `/locations` operations only with
 * `SHOW_MULTIPLE_LOCATIONS` on (docs/locations.md#legacy-patch).
 */
export const handler = apiHandler(async (request) => {
  const dialect = patchDialect(request.headers['content-type']);
  const operations = parsePatch(jsonBody(request), dialect);
  const settings = locationSettings();
  const image = await patchImage(
    images(),
    request.caller,
    request.path.image_id ?? '',
    operations,
    settings,
    uriFilter(),
  );
  return reply(200, imageView(image, settings));
});
