import { apiHandler, reply } from '#shared/http/handler';
import { editImage } from '#shared/images/edit';
import { removeTag } from '#shared/images/tags';
import { images } from '#shared/runtime';

/** `DELETE /v2/images/{image_id}/tags/{tag}`: 404 when the tag is absent. */
export const handler = apiHandler(async ({ caller, path }) => {
  const tag = path.tag ?? '';
  await editImage(images(), caller, path.image_id ?? '', (image) => removeTag(image, tag));
  return reply(204);
});
