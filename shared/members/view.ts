/** The member entity and the member list of the member API (docs/api.md#members), as Glance renders them. */
import { glanceTime } from '#shared/images/view';
import type { MemberRecord } from './model.ts';

export const memberView = (member: MemberRecord) => ({
  member_id: member.member_id,
  image_id: member.image_id,
  status: member.status,
  created_at: glanceTime(member.created_at),
  updated_at: glanceTime(member.updated_at),
  schema: '/v2/schemas/member',
});

export const membersView = (members: readonly MemberRecord[]) => ({
  members: members.map(memberView),
  schema: '/v2/schemas/members',
});
