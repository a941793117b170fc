import { apiHandler, jsonBody, reply } from '#shared/http/handler';
import { parseAddMemberBody } from '#shared/members/model';
import { addMember } from '#shared/members/sharing';
import { memberView } from '#shared/members/view';
import { imagesAndMembers, serviceConfig } from '#shared/runtime';

/** `POST /v2/images/{image_id}/members`: 200 (not 201, as Glance) with the new `pending` member. */
export const handler = apiHandler(async (request) => {
  const memberId = parseAddMemberBody(jsonBody(request));
  const { imageMemberQuota } = serviceConfig();
  const member = await addMember(
    imagesAndMembers(),
    request.caller,
    request.path.image_id ?? '',
    memberId,
    imageMemberQuota,
  );
  return reply(200, memberView(member));
});
