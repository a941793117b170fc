/**
 * Image members (docs/api.md#members): who an image is shared with, the member statuses, and the
 * request bodies of the member API, parsed as Glance's deserializer does. Pure.
 */
import { BadRequest } from '#shared/errors';

/** Glance's member statuses; a new member is `pending`. */
export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/**
 * The caller project's membership of an image: its member status, or null when it is not a
 * member. This is Glance's `member_id` policy target; it grants something only while the image
 * is `shared` (docs/api.md#policy).
 */
export type Membership = MemberStatus | null;

/** One member of an image, as the API shows it (times are ISO with milliseconds). */
export interface MemberRecord {
  readonly image_id: string;
  readonly member_id: string;
  readonly status: MemberStatus;
  readonly created_at: string;
  readonly updated_at: string;
}

/**
 * Member ids are project ids: 1 to 255 printable ASCII characters other than space and `/` (D11),
 * so that every member can be addressed as `/members/{member_id}` and the image's member item
 * holds `image_member_quota` of them within DynamoDB's item limit.
 */
export const MEMBER_ID_PATTERN = /^[\x21-\x2e\x30-\x7e]{1,255}$/;

export const isMemberStatus = (value: unknown): value is MemberStatus =>
  typeof value === 'string' && (MEMBER_STATUSES as readonly string[]).includes(value);

const isObject = (body: unknown): body is Record<string, unknown> =>
  body !== null && typeof body === 'object' && !Array.isArray(body);

/** Glance tests `not member`: null, false, 0, '', [] and {} are all "empty". */
const isPythonFalsy = (value: unknown): boolean =>
  value === null ||
  value === false ||
  value === 0 ||
  value === '' ||
  (Array.isArray(value) && value.length === 0) ||
  (isObject(value) && Object.keys(value).length === 0);

/** `POST /v2/images/{image_id}/members`: `{"member": "<project id>"}` (Glance's messages). */
export const parseAddMemberBody = (body: unknown): string => {
  if (!isObject(body)) throw new BadRequest('Expected a member in the form: {"member": "image_id"}');
  if (!Object.hasOwn(body, 'member')) throw new BadRequest('Member to be added not specified');
  const member = body.member;
  if (isPythonFalsy(member)) throw new BadRequest("Member can't be empty");
  if (typeof member !== 'string' || !MEMBER_ID_PATTERN.test(member)) {
    throw new BadRequest(
      "Member must be a project id: 1 to 255 printable ASCII characters, without spaces or '/'.",
    );
  }
  return member;
};

/**
 * `PUT /v2/images/{image_id}/members/{member_id}`: `{"status": ...}` must be given; its value is
 * checked later (`requireMemberStatus`), after the policy, as in Glance.
 */
export const parseMemberStatusBody = (body: unknown): unknown => {
  if (!isObject(body)) throw new BadRequest('Expected a status in the form: {"status": "status"}');
  if (!Object.hasOwn(body, 'status')) throw new BadRequest('Status not specified');
  return body.status;
};

export const requireMemberStatus = (value: unknown): MemberStatus => {
  if (!isMemberStatus(value)) {
    throw new BadRequest('Incorrect request: Status must be "pending", "accepted" or "rejected".');
  }
  return value;
};
