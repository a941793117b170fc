/**
 * Reading image members (docs/api.md#members): what every image function needs for the policy
 * (the caller's membership) and the listing (the images shared with a project), apart from the
 * writes (./repository.ts) that only the member routes and deletes bundle. The item layout is
 * described in ./repository.ts.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems, queryPage, type Table } from '#shared/dynamo';
import { membersKey, sharedWithIndexKey, TABLE_KEYS } from '#shared/table';
import type { MemberRecord, MemberStatus, Membership } from './model.ts';

export /** A member as stored in the image's member map. */
interface StoredMember {
  readonly status: MemberStatus;
  readonly created_at: string;
  readonly updated_at: string;
  /** The token of this member's index entry. */
  readonly entry: string;
}

/** A page of the images shared with a project, in index order. */
export interface SharedPage {
  readonly imageIds: string[];
  readonly lastKey?: Record<string, unknown>;
}

/**
 * The key of a member in the map: its id behind a prefix, so that no member id (`__proto__`
 * included) is ever an object's special key when the SDK turns the map into an object.
 */
export const slot = (memberId: string): string => `m:${memberId}`;
export const memberIdOf = (key: string): string => key.slice(2);

/** The stored member under `memberId`, own keys only. */
export const storedIn = (members: Record<string, StoredMember> | undefined, memberId: string) =>
  members && Object.hasOwn(members, slot(memberId)) ? members[slot(memberId)] : undefined;

export const recordOf = (imageId: string, memberId: string, stored: StoredMember): MemberRecord => ({
  image_id: imageId,
  member_id: memberId,
  status: stored.status,
  created_at: stored.created_at,
  updated_at: stored.updated_at,
});

export class MemberReads {
  protected readonly table: Table;

  constructor(doc: DynamoDBDocumentClient, tableName: string) {
    this.table = { doc, tableName };
  }

  /** Every member of the image, oldest first. */
  async list(imageId: string): Promise<MemberRecord[]> {
    const members = (await this.memberMap(imageId)) ?? {};
    return Object.entries(members)
      .map(([key, stored]) => recordOf(imageId, memberIdOf(key), stored))
      .sort((a, b) =>
        a.created_at === b.created_at
          ? a.member_id.localeCompare(b.member_id)
          : a.created_at.localeCompare(b.created_at),
      );
  }

  /** One member, or undefined. */
  async get(imageId: string, memberId: string): Promise<MemberRecord | undefined> {
    const { Item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: membersKey(imageId),
        ConsistentRead: true,
        ProjectionExpression: '#members.#member',
        ExpressionAttributeNames: { '#members': 'members', '#member': slot(memberId) },
      }),
    );
    const stored = storedIn(Item?.members as Record<string, StoredMember> | undefined, memberId);
    return stored ? recordOf(imageId, memberId, stored) : undefined;
  }

  /** The project's member status on the image, or null when it is not a member. */
  async statusOf(imageId: string, memberId: string): Promise<Membership> {
    return (await this.get(imageId, memberId))?.status ?? null;
  }

  /** The project's member status on each of the images (null where it is not a member). */
  async statusesOf(imageIds: readonly string[], memberId: string): Promise<Map<string, Membership>> {
    const statuses = new Map<string, Membership>(imageIds.map((id) => [id, null]));
    const items = await batchGetItems(this.table, imageIds.map(membersKey), {
      ProjectionExpression: '#pk, #members.#member',
      ExpressionAttributeNames: {
        '#pk': TABLE_KEYS.partition,
        '#members': 'members',
        '#member': slot(memberId),
      },
    });
    for (const item of items) {
      const stored = storedIn(item.members as Record<string, StoredMember> | undefined, memberId);
      if (stored) statuses.set(String(item[TABLE_KEYS.partition]).replace(/^MEMBERS#/, ''), stored.status);
    }
    return statuses;
  }

  /**
   * One page of the ids of images the project was made a member of, in index order (one Query on
   * gsi1). Entries are pointers: the caller checks each image and membership.
   */
  async sharedWith(
    memberId: string,
    input: {
      readonly descending: boolean;
      /** Exclusive bound on the index sort key. */
      readonly after?: string;
      readonly limit: number;
      readonly startKey?: Record<string, unknown>;
    },
  ): Promise<SharedPage> {
    const { items, lastKey } = await queryPage(this.table, {
      index: 'gsi1',
      partition: sharedWithIndexKey(memberId),
      ...input,
    });
    return { imageIds: items.map((item) => String(item.image_id)), ...(lastKey ? { lastKey } : {}) };
  }

  protected async memberMap(imageId: string): Promise<Record<string, StoredMember> | undefined> {
    const { Item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.tableName, Key: membersKey(imageId), ConsistentRead: true }),
    );
    return Item ? ((Item.members as Record<string, StoredMember> | undefined) ?? {}) : undefined;
  }
}
