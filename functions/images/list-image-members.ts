import { apiHandler, reply } from '#shared/http/handler';
import { listMembers } from '#shared/members/sharing';
import { membersView } from '#shared/members/view';
import { imageReads } from '#shared/runtime';

/**
 * `GET /v2/images/{image_id}/members`: every member for the owner project and admins, its own
 * entry for a member project. At most `image_member_quota` entries of a few hundred bytes, far
 * below the response limit, so no paging (Glance has none).
 */
export const handler = apiHandler(async ({ caller, path }) =>
  reply(200, membersView(await listMembers(imageReads(), caller, path.image_id ?? ''))),
);
