/**
 * The member API (docs/api.md#members) with Glance's checks in Glance's order
 * (`glance/api/v2/image_members.py` under the new policy defaults, decision D9):
 *
 * 1. the image must be visible to the caller (404, `loadImageAccess`);
 * 2. it must be `shared` (403; 404 for show, which turns every refusal into 404);
 * 3. the member policy must allow the call (403);
 * 4. for one member: it must exist and be visible to the caller (404; a member project sees only
 *    its own entry); then the operation's own policy (403) and, for a status, its value (400).
 */
import type { Caller } from '#shared/auth';
import { Conflict, Forbidden, NotFound, PayloadTooLarge } from '#shared/errors';
import { loadImageAccess, type VisibleImage } from '#shared/images/access';
import type { ImageReads, ImageRepository } from '#shared/images/repository';
import type { MemberRepository } from '#shared/members/repository';
import {
  canManageMembers,
  canReadMembers,
  canSeeMember,
  canSetMemberStatus,
  requireImagePolicy,
} from '#shared/policy';
import { isGone } from '#shared/status-rules';
import { type MemberRecord, requireMemberStatus } from './model.ts';

const ONLY_SHARED = 'Only shared images have members.';

type Verb = 'create' | 'list' | 'update' | 'delete';

/** Step 2: members exist only on `shared` images. */
const requireShared = ({ image }: VisibleImage, verb: Verb): void => {
  if (image.visibility !== 'shared') {
    throw new Forbidden(`Not allowed to ${verb} members for image ${image.id}: ${ONLY_SHARED}`);
  }
};

const notAMember = (imageId: string, memberId: string) =>
  new NotFound(`${memberId} not found in the member list of the image ${imageId}.`);

/** Step 4: the member as the caller may see it. */
const loadMember = async (
  repository: ImageReads,
  caller: Caller,
  { image, membership }: VisibleImage,
  memberId: string,
): Promise<MemberRecord> => {
  requireImagePolicy(caller, image, canReadMembers, 'read the members of', membership);
  const member = canSeeMember(caller, image, memberId)
    ? await repository.members.get(image.id, memberId)
    : undefined;
  if (!member) throw notAMember(image.id, memberId);
  return member;
};

/** `GET /v2/images/{image_id}/members`: all members for the owner and admins, its own for a member. */
export const listMembers = async (
  repository: ImageReads,
  caller: Caller,
  imageId: string,
): Promise<MemberRecord[]> => {
  const access = await loadImageAccess(repository, caller, imageId);
  requireShared(access, 'list');
  requireImagePolicy(caller, access.image, canReadMembers, 'list the members of', access.membership);
  const members = await repository.members.list(access.image.id);
  return members.filter((member) => canSeeMember(caller, access.image, member.member_id));
};

/** `GET /v2/images/{image_id}/members/{member_id}`: every refusal is a 404, as in Glance. */
export const showMember = async (
  repository: ImageReads,
  caller: Caller,
  imageId: string,
  memberId: string,
): Promise<MemberRecord> => {
  const access = await loadImageAccess(repository, caller, imageId);
  try {
    if (access.image.visibility !== 'shared') throw new NotFound(ONLY_SHARED);
    return await loadMember(repository, caller, access, memberId);
  } catch (error) {
    if (error instanceof Forbidden) throw new NotFound(error.message, { cause: error });
    throw error;
  }
};

/**
 * `POST /v2/images/{image_id}/members`: a `pending` member; 409 when it is one already, 413 at
 * `image_member_quota` (the quota holds under concurrent adds: shared/members/repository.ts).
 */
export const addMember = async (
  repository: ImageRepository<MemberRepository>,
  caller: Caller,
  imageId: string,
  memberId: string,
  quota: number,
): Promise<MemberRecord> => {
  const access = await loadImageAccess(repository, caller, imageId);
  requireShared(access, 'create');
  const { image } = access;
  requireImagePolicy(caller, image, canManageMembers, 'add members to', access.membership);
  const outcome = await repository.members.add(image, memberId, quota);
  if (outcome.kind === 'full') {
    throw new PayloadTooLarge(
      `Image member limit exceeded for image ${image.id}: The limit has been exceeded on the number of allowed image members for this image. Attempted: ${outcome.count + 1}, Maximum: ${quota}`,
    );
  }
  if (outcome.kind === 'exists') throw new Conflict(`Member ${memberId} is duplicated for image ${image.id}`);
  // Deleting the image removes its members after the delete is written; an add that read the
  // image before could land after that removal, so it looks again and cleans up after itself.
  const now = await repository.get(image.id);
  if (!now || isGone(now.status)) {
    await repository.members.removeAll(image.id);
    throw new NotFound(`No image found with ID ${imageId}`);
  }
  return outcome.member;
};

/**
 * Why the caller may not change a member's status, in Glance's words and then ours: the caller can
 * see the image and the member (steps 1 to 4 passed), so it is either the owner project, which never
 * answers for its consumers, or a member project without the `member` role.
 */
const statusRefusal = (caller: Caller, image: VisibleImage['image'], memberId: string): string =>
  `Not allowed to update members for image ${image.id}: ${
    image.owner === caller.projectId
      ? `only project ${memberId} itself or an admin can accept, reject or reset its membership, not the image's owner.`
      : `changing the membership of project ${memberId} needs the member role in that project.`
  }`;

/**
 * `PUT /v2/images/{image_id}/members/{member_id}`: only the member project itself (or an admin)
 * accepts or rejects; the status value is checked last, as in Glance.
 */
export const setMemberStatus = async (
  repository: ImageRepository<MemberRepository>,
  caller: Caller,
  imageId: string,
  memberId: string,
  status: unknown,
): Promise<MemberRecord> => {
  const access = await loadImageAccess(repository, caller, imageId);
  requireShared(access, 'update');
  const member = await loadMember(repository, caller, access, memberId);
  if (!canSetMemberStatus(caller, access.image, access.membership)) {
    throw new Forbidden(statusRefusal(caller, access.image, memberId));
  }
  const wanted = requireMemberStatus(status);
  const now = new Date();
  if (!(await repository.members.setStatus(access.image.id, memberId, wanted, now))) {
    throw notAMember(access.image.id, memberId);
  }
  return { ...member, status: wanted, updated_at: now.toISOString() };
};

/** `DELETE /v2/images/{image_id}/members/{member_id}`: the owner project or an admin. */
export const removeMember = async (
  repository: ImageRepository<MemberRepository>,
  caller: Caller,
  imageId: string,
  memberId: string,
): Promise<void> => {
  const access = await loadImageAccess(repository, caller, imageId);
  requireShared(access, 'delete');
  await loadMember(repository, caller, access, memberId);
  requireImagePolicy(caller, access.image, canManageMembers, 'remove members of', access.membership);
  if (!(await repository.members.remove(access.image.id, memberId)))
    throw notAMember(access.image.id, memberId);
};
