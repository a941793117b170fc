import { ENABLED_IMPORT_METHODS } from '#shared/discovery';
import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { imageFromCreateBody } from '#shared/images/create';
import { imageView } from '#shared/images/view';
import { images, locationView } from '#shared/runtime';

/** `POST /v2/images` (T1): 201 with the image in `queued`. */
export const handler = apiHandler(async (request) => {
  const image = imageFromCreateBody(jsonObjectBody(request), request.caller);
  await images().create(image);
  return reply(201, imageView(image, locationView()), {
    Location: `/v2/images/${image.id}`,
    'OpenStack-image-import-methods': ENABLED_IMPORT_METHODS.join(','),
  });
});
