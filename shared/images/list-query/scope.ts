/**
 * Which images a caller's `GET /v2/images` may contain at all, before filters (docs/api.md#visibility): owner,
 * public and community images, accepted members, and the `visibility` filter's rules. Pure.
 */
import type { ImageRecord } from '#shared/images/model';
import { MEMBER_STATUSES, type Membership } from '#shared/members/model';

/** `member_status`: one member status, or `all`. */
export const MEMBER_STATUS_FILTERS = [...MEMBER_STATUSES, 'all'] as const;
export type MemberStatusFilter = (typeof MEMBER_STATUS_FILTERS)[number];

export const VISIBILITY_FILTERS = ['public', 'private', 'shared', 'community', 'all'] as const;
export type VisibilityFilter = (typeof VISIBILITY_FILTERS)[number];

/** Who is listing: the project the token is scoped to, and whether it is an admin. */
export interface ListCaller {
  readonly projectId: string;
  readonly isAdmin: boolean;
}

/**
 * Whether a member status is one the listing asks for (`member_status`, default accepted; `all` =
 * any). Not being a member (null/undefined) is never one. The listing store asks this before it
 * loads a shared image, so shares the caller has not accepted cost no image read
 * (docs/api.md#listing-images).
 */
export const wantsMembership = (memberStatus: MemberStatusFilter, membership?: Membership): boolean =>
  membership != null && (memberStatus === 'all' || membership === memberStatus);

/**
 * Whether the image belongs in this caller's list, before filters (Glance's `_select_images_query`
 * plus its visibility rules, docs/api.md#visibility). `membership` is the caller project's member status on
 * this image, or null/undefined when it is not a member.
 *
 * - Non-admins see public and community images, their own, and `shared` images they are a member
 *   of with the requested `member_status` (default accepted; `all` = any). Admins see everything.
 * - With a `visibility` filter only that visibility is kept (`all` keeps everything in scope);
 *   without one, community images are left out unless the caller's project owns them.
 *
 * The per-image `get_image` policy check still applies afterwards.
 */
export const inListScope = (
  image: Pick<ImageRecord, 'owner' | 'visibility'>,
  query: { readonly visibility?: VisibilityFilter; readonly memberStatus: MemberStatusFilter },
  caller: ListCaller,
  membership?: Membership,
): boolean => {
  const owned = image.owner !== null && image.owner === caller.projectId;
  if (!caller.isAdmin) {
    const member = image.visibility === 'shared' && wantsMembership(query.memberStatus, membership);
    if (!(image.visibility === 'public' || image.visibility === 'community' || owned || member)) return false;
  }
  if (query.visibility !== undefined)
    return query.visibility === 'all' || image.visibility === query.visibility;
  return image.visibility !== 'community' || owned;
};
