/**
 * Image members in DynamoDB (docs/api.md#members; keys in shared/table.ts).
 *
 * The authority is ONE item per image holding a map `members`: member id → status, times and the
 * token of its index entry. Adding, changing and removing a member are single conditional writes
 * on that item, so concurrent adds can never together pass `image_member_quota`
 * (`size(members) < quota`), a member is never added twice, and no counter can drift.
 *
 * Each member also has an index entry (gsi1 partition `MEMBER#<project>`, sort key the image's
 * `<created_at>#<id>`), so that "the images shared with my project" is one Query merged with the
 * image indexes. Entries are pointers, never trusted: a listing checks each against the member
 * item. The write order keeps one invariant, a member always has its entry: the entry is written
 * before the member, and removed after it, only while it still carries the removed member's
 * token (a concurrent re-add keeps the entry it wrote). A crash can leave an entry without a
 * member; it lists nothing, the next add overwrites it, and deleting the image removes it.
 */
import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { batchGetItems, type Item, putNew, queryPage, type Table } from '#shared/dynamo';
import { RecordConflict } from '#shared/errors';
import { retryOnConflict } from '#shared/retry';
import { createdSortKey, memberEntryKey, membersKey, sharedWithIndexKey, TABLE_KEYS } from '#shared/table';
import type { MemberRecord, MemberStatus, Membership } from './model.ts';

/** A member as stored in the image's member map. */
interface StoredMember {
  readonly status: MemberStatus;
  readonly created_at: string;
  readonly updated_at: string;
  /** The token of this member's index entry. */
  readonly entry: string;
}

/** An add lost its condition to a concurrent change of the member item (409 if it keeps losing). */
export class MembersChanged extends RecordConflict<undefined> {}

/** What adding a member gave. */
export type AddOutcome =
  | { readonly kind: 'added'; readonly member: MemberRecord }
  | { readonly kind: 'exists' }
  | { readonly kind: 'full'; readonly count: number };

/** A page of the images shared with a project, in index order. */
export interface SharedPage {
  readonly imageIds: string[];
  readonly lastKey?: Record<string, unknown>;
}

/** Deletes in flight at once when an image's members are removed. */
const DELETES_AT_ONCE = 25;

/**
 * The key of a member in the map: its id behind a prefix, so that no member id (`__proto__`
 * included) is ever an object's special key when the SDK turns the map into an object.
 */
const slot = (memberId: string): string => `m:${memberId}`;
const memberIdOf = (key: string): string => key.slice(2);

/** The stored member under `memberId`, own keys only. */
const storedIn = (members: Record<string, StoredMember> | undefined, memberId: string) =>
  members && Object.hasOwn(members, slot(memberId)) ? members[slot(memberId)] : undefined;

const isConditionFailure = (error: unknown): boolean => error instanceof ConditionalCheckFailedException;

const recordOf = (imageId: string, memberId: string, stored: StoredMember): MemberRecord => ({
  image_id: imageId,
  member_id: memberId,
  status: stored.status,
  created_at: stored.created_at,
  updated_at: stored.updated_at,
});

export class MemberRepository {
  private readonly table: Table;

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
   * Adds a `pending` member unless it is one already or the image has `quota` members (the quota
   * is checked first, as in Glance). One conditional write decides; a lost race decides again.
   */
  async add(
    image: { readonly id: string; readonly created_at: string },
    memberId: string,
    quota: number,
    now = new Date(),
  ): Promise<AddOutcome> {
    const at = now.toISOString();
    const stored: StoredMember = {
      status: 'pending',
      created_at: at,
      updated_at: at,
      entry: randomBytes(9).toString('base64url'),
    };
    let entryWritten = false;
    // A lost condition is decided again on the member item as it is now (shared/retry.ts).
    return retryOnConflict(async () => {
      const members = await this.memberMap(image.id);
      const count = members ? Object.keys(members).length : 0;
      if (count >= quota) return { kind: 'full', count };
      if (storedIn(members, memberId)) return { kind: 'exists' };
      // The entry before the member: a member must never exist without it.
      if (!entryWritten) await this.putEntry(image, memberId, stored.entry);
      entryWritten = true;
      const changed = (cause: unknown) =>
        new MembersChanged(
          `The members of image ${image.id} changed meanwhile; try again.`,
          undefined,
          cause,
        );
      try {
        if (members) await this.putMember(image.id, memberId, stored, quota);
        else
          await putNew(
            this.table,
            { ...membersKey(image.id), image_id: image.id, members: { [slot(memberId)]: stored } },
            changed,
          );
      } catch (error) {
        throw isConditionFailure(error) ? changed(error) : error;
      }
      return { kind: 'added', member: recordOf(image.id, memberId, stored) };
    });
  }

  /**
   * Sets a member's status; false when it is not a member (any more). Invariant: only an
   * existing member changes.
   */
  async setStatus(
    imageId: string,
    memberId: string,
    status: MemberStatus,
    now = new Date(),
  ): Promise<boolean> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: membersKey(imageId),
          UpdateExpression: 'SET #members.#member.#status = :status, #members.#member.#updated = :now',
          ConditionExpression: 'attribute_exists(#members.#member)',
          ExpressionAttributeNames: {
            '#members': 'members',
            '#member': slot(memberId),
            '#status': 'status',
            '#updated': 'updated_at',
          },
          ExpressionAttributeValues: { ':status': status, ':now': now.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Removes a member and then its index entry; false when it was not a member. */
  async remove(imageId: string, memberId: string): Promise<boolean> {
    let removed: StoredMember | undefined;
    try {
      const { Attributes } = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: membersKey(imageId),
          UpdateExpression: 'REMOVE #members.#member',
          ConditionExpression: 'attribute_exists(#members.#member)',
          ExpressionAttributeNames: { '#members': 'members', '#member': slot(memberId) },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      removed = storedIn(Attributes?.members as Record<string, StoredMember> | undefined, memberId);
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    if (removed) await this.deleteEntry(imageId, memberId, removed.entry);
    return true;
  }

  /** Removes every member of the image and every index entry, stale ones included. */
  async removeAll(imageId: string): Promise<void> {
    const { pk } = membersKey(imageId);
    let startKey: Item | undefined;
    do {
      const { Items = [], LastEvaluatedKey } = await this.table.doc.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TABLE_KEYS.partition, '#sk': TABLE_KEYS.sort },
          ExpressionAttributeValues: { ':pk': pk },
          ProjectionExpression: '#pk, #sk',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (let start = 0; start < Items.length; start += DELETES_AT_ONCE) {
        await Promise.all(
          Items.slice(start, start + DELETES_AT_ONCE).map((key) =>
            this.table.doc.send(new DeleteCommand({ TableName: this.table.tableName, Key: key })),
          ),
        );
      }
      startKey = LastEvaluatedKey;
    } while (startKey);
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

  private async memberMap(imageId: string): Promise<Record<string, StoredMember> | undefined> {
    const { Item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.tableName, Key: membersKey(imageId), ConsistentRead: true }),
    );
    return Item ? ((Item.members as Record<string, StoredMember> | undefined) ?? {}) : undefined;
  }

  /**
   * Invariant: a member is added only to an existing member item, only once, and only while the
   * image has fewer than `quota` members.
   */
  private async putMember(imageId: string, memberId: string, stored: StoredMember, quota: number) {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: membersKey(imageId),
        UpdateExpression: 'SET #members.#member = :member',
        ConditionExpression:
          'attribute_exists(#pk) AND attribute_not_exists(#members.#member) AND size(#members) < :quota',
        ExpressionAttributeNames: {
          '#pk': TABLE_KEYS.partition,
          '#members': 'members',
          '#member': slot(memberId),
        },
        ExpressionAttributeValues: { ':member': stored, ':quota': quota },
      }),
    );
  }

  /** The member's index entry, carrying the token of the member about to be written. */
  private async putEntry(
    image: { readonly id: string; readonly created_at: string },
    memberId: string,
    token: string,
  ): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          ...memberEntryKey(image.id, memberId),
          [TABLE_KEYS.gsi1.partition]: sharedWithIndexKey(memberId),
          [TABLE_KEYS.gsi1.sort]: createdSortKey(image.created_at, image.id),
          image_id: image.id,
          member_id: memberId,
          entry: token,
        },
      }),
    );
  }

  /** Invariant: an entry is deleted only while it carries the removed member's token. */
  private async deleteEntry(imageId: string, memberId: string, token: string): Promise<void> {
    try {
      await this.table.doc.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: memberEntryKey(imageId, memberId),
          ConditionExpression: '#entry = :entry',
          ExpressionAttributeNames: { '#entry': 'entry' },
          ExpressionAttributeValues: { ':entry': token },
        }),
      );
    } catch (error) {
      // A concurrent add of the same member rewrote the entry: it is that member's now.
      if (!isConditionFailure(error)) throw error;
    }
  }
}
