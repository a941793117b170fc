import { apiHandler, jsonBody, reply } from '#shared/http/handler';
import { parseMemberStatusBody } from '#shared/members/model';
import { setMemberStatus } from '#shared/members/sharing';
import { memberView } from '#shared/members/view';
import { imagesAndMembers } from '#shared/runtime';

/** `PUT /v2/images/{image_id}/members/{member_id}`: `{"status": "accepted"}`; the member project itself. */
export const handler = apiHandler(async (request) => {
  const status = parseMemberStatusBody(jsonBody(request));
  const { caller, path } = request;
  const member = await setMemberStatus(
    imagesAndMembers(),
    caller,
    path.image_id ?? '',
    path.member_id ?? '',
    status,
  );
  return reply(200, memberView(member));
});
