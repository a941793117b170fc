import { apiHandler, reply } from '#shared/http/handler';
import { removeMember } from '#shared/members/sharing';
import { imagesAndMembers } from '#shared/runtime';

/** `DELETE /v2/images/{image_id}/members/{member_id}`: the owner project or an admin; 204. */
export const handler = apiHandler(async ({ caller, path }) => {
  await removeMember(imagesAndMembers(), caller, path.image_id ?? '', path.member_id ?? '');
  return reply(204);
});
