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
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Item, putNew } from '#shared/dynamo';
import { RecordConflict } from '#shared/errors';
import { retryOnConflict } from '#shared/retry';
import { createdSortKey, memberEntryKey, membersKey, sharedWithIndexKey, TABLE_KEYS } from '#shared/table';
import type { MemberRecord, MemberStatus } from './model.ts';
import { MemberReads, recordOf, type StoredMember, slot, storedIn } from './reads.ts';

export type { SharedPage } from './reads.ts';

/** An add lost its condition to a concurrent change of the member item (409 if it keeps losing). */
export class MembersChanged extends RecordConflict<undefined> {}

/** What adding a member gave. */
export type AddOutcome =
  | { readonly kind: 'added'; readonly member: MemberRecord }
  | { readonly kind: 'exists' }
  | { readonly kind: 'full'; readonly count: number };

/** Deletes in flight at once when an image's members are removed. */
const DELETES_AT_ONCE = 25;

const isConditionFailure = (error: unknown): boolean => error instanceof ConditionalCheckFailedException;

/** Reads and writes of image members: the member routes and image deletes. */
export class MemberRepository extends MemberReads {
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
