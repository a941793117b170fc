import { apiHandler, reply } from '#shared/http/handler';
import { showMember } from '#shared/members/sharing';
import { memberView } from '#shared/members/view';
import { imageReads } from '#shared/runtime';

/** `GET /v2/images/{image_id}/members/{member_id}`: every refusal is a 404. */
export const handler = apiHandler(async ({ caller, path }) =>
  reply(200, memberView(await showMember(imageReads(), caller, path.image_id ?? '', path.member_id ?? ''))),
);
