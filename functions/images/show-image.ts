import { apiHandler, reply } from '#shared/http/handler';
import { loadVisibleImage } from '#shared/images/access';
import { imageView } from '#shared/images/view';
import { imageReads, locationView } from '#shared/runtime';

/** `GET /v2/images/{image_id}`. */
export const handler = apiHandler(async ({ caller, path }) => {
  const image = await loadVisibleImage(imageReads(), caller, path.image_id ?? '');
  return reply(200, imageView(image, locationView()));
});
