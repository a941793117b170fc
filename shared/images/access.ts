/** Loading an image the way every image endpoint needs it, with Glance's 404 masking. */
import type { Caller } from '#shared/auth';
import { NotFound } from '#shared/errors';
import type { Membership } from '#shared/members/model';
import type { MemberReads } from '#shared/members/reads';
import { canSeeImage } from '#shared/policy';
import { isGone } from '#shared/status-rules';
import type { ImageRecord } from './model.ts';
import type { ImageReads } from './repository.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => UUID.test(value);

/** An image the caller may see, and the caller project's membership of it. */
export interface VisibleImage {
  readonly image: ImageRecord;
  readonly membership: Membership;
}

/**
 * The caller project's membership of the image, read only where the policy can use it: a shared
 * image the project does not own, for a caller who is not an admin (docs/api.md#policy).
 */
export const membershipOf = async (
  members: MemberReads,
  caller: Caller,
  image: Pick<ImageRecord, 'id' | 'owner' | 'visibility'>,
): Promise<Membership> =>
  !caller.isAdmin && image.visibility === 'shared' && image.owner !== caller.projectId
    ? members.statusOf(image.id, caller.projectId)
    : null;

/**
 * The image the caller may see, with its membership, or 404: unknown, malformed, deleted,
 * pending_delete and invisible ids all answer the same, so existence is never revealed.
 */
export const loadImageAccess = async (
  repository: ImageReads,
  caller: Caller,
  id: string,
): Promise<VisibleImage> => {
  const image = isUuid(id) ? await repository.get(id.toLowerCase()) : undefined;
  const membership =
    image && !isGone(image.status) ? await membershipOf(repository.members, caller, image) : null;
  if (!image || isGone(image.status) || !canSeeImage(caller, image, membership)) {
    throw new NotFound(`No image found with ID ${id}`);
  }
  return { image, membership };
};

/** `loadImageAccess` for endpoints that only need the image. */
export const loadVisibleImage = async (
  repository: ImageReads,
  caller: Caller,
  id: string,
): Promise<ImageRecord> => (await loadImageAccess(repository, caller, id)).image;

/** The actor recorded in history for a user request. */
export const actorOf = (caller: Caller): string => `user:${caller.userId}@project:${caller.projectId}`;
