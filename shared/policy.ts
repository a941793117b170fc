/**
 * The default Glance policy (new RBAC defaults, decision D9, docs/api.md#policy), as pure predicates.
 * Keystone's implied roles are honoured: admin implies member, member implies reader.
 *
 * Image members (docs/api.md#members) enter as the caller project's `Membership` of the image,
 * Glance's `member_id` target: it grants something only while the image is `shared`, and never to
 * the owner project (Glance sets `member_id` only for a caller that does not own the image).
 */
import type { Caller } from './auth.ts';
import { Forbidden, NotFound } from './errors.ts';
import type { ImageRecord } from './images/model.ts';
import type { Membership } from './members/model.ts';

type ImageTarget = Pick<ImageRecord, 'owner' | 'visibility'>;

/** Keystone's implied roles: admin implies member, member implies reader. */
export const hasRole = (caller: Caller, role: 'reader' | 'member'): boolean =>
  caller.isAdmin || caller.roles.includes(role) || (role === 'reader' && caller.roles.includes('member'));

const owns = (caller: Caller, image: Pick<ImageRecord, 'owner'>): boolean =>
  image.owner !== null && image.owner === caller.projectId;

/** The caller's project is a member of this shared image (any member status), and not its owner. */
const isImageMember = (caller: Caller, image: ImageTarget, membership: Membership): boolean =>
  image.visibility === 'shared' && membership !== null && !owns(caller, image);

/**
 * `get_image`: may the caller see the image at all? The owner, anyone for public and community
 * images, and a member project for a shared image whatever its member status.
 */
export const canSeeImage = (caller: Caller, image: ImageTarget, membership: Membership = null): boolean =>
  caller.isAdmin ||
  (hasRole(caller, 'reader') &&
    (owns(caller, image) ||
      image.visibility === 'public' ||
      image.visibility === 'community' ||
      isImageMember(caller, image, membership)));

/** `modify_image`, `upload_image`, `delete_image`, deactivate/reactivate: admin or owner member. */
export const canModifyImage = (caller: Caller, image: Pick<ImageRecord, 'owner'>): boolean =>
  caller.isAdmin || (hasRole(caller, 'member') && owns(caller, image));

/** `get_images`: admin, or a reader on its own project. */
export const canListImages = (caller: Caller): boolean => hasRole(caller, 'reader');

/** `add_image`: admin, or member creating for its own project. */
export const canCreateImage = (caller: Caller, owner: string | null): boolean =>
  caller.isAdmin || (hasRole(caller, 'member') && owner === caller.projectId);

/** `download_image`: admin, or member who can see the image (a member project included). */
export const canDownloadImage = (
  caller: Caller,
  image: ImageTarget,
  membership: Membership = null,
): boolean => caller.isAdmin || (hasRole(caller, 'member') && canSeeImage(caller, image, membership));

/**
 * Reading an image's transition history (decision B1): it names users and projects, so only the
 * owner project's readers and admins, not everyone who can see a public image.
 */
export const canReadImageHistory = (caller: Caller, image: Pick<ImageRecord, 'owner'>): boolean =>
  caller.isAdmin || (hasRole(caller, 'reader') && owns(caller, image));

/** The `service` role (Glance's `role:service`), which other OpenStack services' users carry. */
export const isService = (caller: Caller): boolean => caller.roles.includes('service');

/** `add_image_location` (docs/locations.md#policy): the service role, or whoever may modify the image. */
export const canAddLocation = (caller: Caller, image: Pick<ImageRecord, 'owner'>): boolean =>
  isService(caller) || canModifyImage(caller, image);

/** `fetch_image_location`: the service role only (locations can reveal the data's storage). */
export const canFetchLocations = (caller: Caller): boolean => isService(caller);

/** `tasks_api_access`: admin only. */
export const canUseTasksApi = (caller: Caller): boolean => caller.isAdmin;

/** `add_member`, `delete_member`: admin, or a member of the owner project. */
export const canManageMembers = (caller: Caller, image: Pick<ImageRecord, 'owner'>): boolean =>
  canModifyImage(caller, image);

/** `get_members`, `get_member`: admin, or a reader of the owner project or of a member project. */
export const canReadMembers = (caller: Caller, image: ImageTarget, membership: Membership = null): boolean =>
  caller.isAdmin ||
  (hasRole(caller, 'reader') && (owns(caller, image) || isImageMember(caller, image, membership)));

/**
 * `modify_member` (accepting or rejecting): admin, or a member of the member project itself. The
 * owner project is never the member here, so it cannot accept for its consumers.
 */
export const canSetMemberStatus = (
  caller: Caller,
  image: ImageTarget,
  membership: Membership = null,
): boolean => caller.isAdmin || (hasRole(caller, 'member') && isImageMember(caller, image, membership));

/**
 * Which member entries the caller sees (Glance's member query): every one for admins and the
 * owner project, only its own for a member project. Others do not exist for it (404).
 */
export const canSeeMember = (caller: Caller, image: Pick<ImageRecord, 'owner'>, memberId: string): boolean =>
  caller.isAdmin || owns(caller, image) || memberId === caller.projectId;

/**
 * Enforces an image-level policy with Glance's masking rule: a caller who cannot even see the
 * image gets 404, one who can see it but not act gets 403.
 */
export const requireImagePolicy = (
  caller: Caller,
  image: ImageRecord,
  allowed: (caller: Caller, image: ImageRecord, membership: Membership) => boolean,
  action: string,
  membership: Membership = null,
): void => {
  if (allowed(caller, image, membership)) return;
  if (!canSeeImage(caller, image, membership)) throw new NotFound(`No image found with ID ${image.id}`);
  throw new Forbidden(`You are not authorized to ${action} image ${image.id}.`);
};
