/**
 * The default Glance policy (new RBAC defaults, decision D9, docs/api.md#policy), as pure predicates.
 * Keystone's implied roles are honoured: admin implies member, member implies reader.
 */
import type { Caller } from './auth.ts';
import { Forbidden, NotFound } from './errors.ts';
import type { ImageRecord } from './images/model.ts';

/** Keystone's implied roles: admin implies member, member implies reader. */
export const hasRole = (caller: Caller, role: 'reader' | 'member'): boolean =>
  caller.isAdmin || caller.roles.includes(role) || (role === 'reader' && caller.roles.includes('member'));

const owns = (caller: Caller, image: Pick<ImageRecord, 'owner'>): boolean =>
  image.owner !== null && image.owner === caller.projectId;

/** `get_image`: may the caller see the image at all? (Image members are not modelled yet.) */
export const canSeeImage = (caller: Caller, image: Pick<ImageRecord, 'owner' | 'visibility'>): boolean =>
  caller.isAdmin ||
  (hasRole(caller, 'reader') &&
    (owns(caller, image) || image.visibility === 'public' || image.visibility === 'community'));

/** `modify_image`, `upload_image`, `delete_image`, deactivate/reactivate: admin or owner member. */
export const canModifyImage = (caller: Caller, image: Pick<ImageRecord, 'owner'>): boolean =>
  caller.isAdmin || (hasRole(caller, 'member') && owns(caller, image));

/** `get_images`: admin, or a reader on its own project. */
export const canListImages = (caller: Caller): boolean => hasRole(caller, 'reader');

/** `add_image`: admin, or member creating for its own project. */
export const canCreateImage = (caller: Caller, owner: string | null): boolean =>
  caller.isAdmin || (hasRole(caller, 'member') && owner === caller.projectId);

/** `download_image`: admin, or member who can see the image. */
export const canDownloadImage = (caller: Caller, image: Pick<ImageRecord, 'owner' | 'visibility'>): boolean =>
  caller.isAdmin || (hasRole(caller, 'member') && canSeeImage(caller, image));

/**
 * Reading an image's transition history (decision B1): it names users and projects, so only the
 * owner project's readers and admins, not everyone who can see a public image.
 */
export const canReadImageHistory = (caller: Caller, image: Pick<ImageRecord, 'owner'>): boolean =>
  caller.isAdmin || (hasRole(caller, 'reader') && owns(caller, image));

/** `tasks_api_access`: admin only. */
export const canUseTasksApi = (caller: Caller): boolean => caller.isAdmin;

/**
 * Enforces an image-level policy with Glance's masking rule: a caller who cannot even see the
 * image gets 404, one who can see it but not act gets 403.
 */
export const requireImagePolicy = (
  caller: Caller,
  image: ImageRecord,
  allowed: (caller: Caller, image: ImageRecord) => boolean,
  action: string,
): void => {
  if (allowed(caller, image)) return;
  if (!canSeeImage(caller, image)) throw new NotFound(`No image found with ID ${image.id}`);
  throw new Forbidden(`You are not authorized to ${action} image ${image.id}.`);
};
