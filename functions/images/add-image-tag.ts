import { apiHandler, reply } from '#shared/http/handler';
import { editImage } from '#shared/images/edit';
import { addTag } from '#shared/images/tags';
import { images } from '#shared/runtime';

/** `PUT /v2/images/{image_id}/tags/{tag}`: idempotent (tags are a set). */
export const handler = apiHandler(async ({ caller, path }) => {
  const tag = path.tag ?? '';
  await editImage(images(), caller, path.image_id ?? '', (image) => addTag(image, tag));
  return reply(204);
});
