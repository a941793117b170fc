import { apiHandler, jsonBody, reply } from '#shared/http/handler';
import { editImage } from '#shared/images/edit';
import { applyPatch, parsePatch, patchDialect } from '#shared/images/patch';
import { imageView } from '#shared/images/view';
import { images } from '#shared/runtime';

/** `PATCH /v2/images/{image_id}`: all operations or none, saved once, conditionally. */
export const handler = apiHandler(async (request) => {
  const dialect = patchDialect(request.headers['content-type']);
  const operations = parsePatch(jsonBody(request), dialect);
  const image = await editImage(images(), request.caller, request.path.image_id ?? '', (current) =>
    applyPatch(current, operations, request.caller),
  );
  return reply(200, imageView(image));
});
