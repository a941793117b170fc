import { apiHandler, reply } from '#shared/http/handler';
import { removeMember } from '#shared/members/sharing';
import { images } from '#shared/runtime';

/** `DELETE /v2/images/{image_id}/members/{member_id}`: the owner project or an admin; 204. */
export const handler = apiHandler(async ({ caller, path }) => {
  await removeMember(images(), caller, path.image_id ?? '', path.member_id ?? '');
  return reply(204);
});
