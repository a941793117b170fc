import { apiHandler, reply } from '#shared/http/handler';
import { listLocations } from '#shared/locations/add-location';
import { imageReads, locationView } from '#shared/runtime';

/** `GET /v2/images/{image_id}/locations` (docs/locations.md#list-locations): the service role only. */
export const handler = apiHandler(async ({ caller, path }) =>
  reply(
    200,
    await listLocations({ images: imageReads(), locations: locationView() }, caller, path.image_id ?? ''),
  ),
);
