/**
 * Images in DynamoDB. Every write is ONE single-item conditional request: creation on
 * `attribute_not_exists`, every status change and every PATCH on the expected status and
 * version. History (decision B1) lives in the item itself and is appended by the same update,
 * so a transition and its history entry can never be separated (the local DynamoDB has no
 * transactions, and a single-item update needs none).
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  batchGetItems,
  bumpVersion,
  type Codecs,
  conditionalUpdate,
  encodeAttribute,
  encodeRecord,
  expectStatusAndVersion,
  getRecord,
  namedPairs,
  putNew,
  queryPage,
  stripKeys,
  type Table,
  UpdateBuilder,
} from '#shared/dynamo';
import { RecordConflict } from '#shared/errors';
import { MemberRepository } from '#shared/members/repository';
import { redactUrls } from '#shared/redact';
import {
  clearsSizeOnEntry,
  type ImageDecision,
  isGone,
  isKilled,
  isPendingDelete,
} from '#shared/status-rules';
import {
  createdSortKey,
  imageKey,
  ownerIndexKey,
  PENDING_SCRUB_PARTITION,
  PENDING_UPLOAD_PARTITION,
  TABLE_KEYS,
  uploadDeadlineSortKey,
  visibilityIndexKey,
} from '#shared/table';
import { FAILURE_REASON_PROPERTY, type HistoryEntry, type ImageRecord, type PendingUpload } from './model.ts';

/** A conditional write lost: someone else changed the image first. Carries what it is now. */
export class ImageConflict extends RecordConflict<ImageRecord> {}

/** Attributes of an image that a transition or an update may set. */
export type ImageChanges = Partial<Omit<ImageRecord, 'id' | 'status' | 'version' | 'history' | 'created_at'>>;

export interface TransitionOptions {
  readonly actor: string;
  /**
   * Why, kept whole in the history entry; for a kill it is also shown in the image's
   * `os_glance_failure_reason` (decision D1), with every URL's userinfo, query and fragment removed.
   */
  readonly reason?: string;
  /** For a kill: what was wrong with the data, recorded in the history entry. */
  readonly failure?: string;
  /** Attributes written together with the status (size and hashes on activation...). */
  readonly set?: ImageChanges;
  /** Reserved properties to drop in the same write. */
  readonly removeProperties?: readonly string[];
  readonly now?: Date;
}

/** Property names are the client's: stored as pairs, never as DynamoDB map keys (shared/dynamo.ts). */
const IMAGE_CODECS: Codecs = { properties: namedPairs };

const indexKeys = (image: Pick<ImageRecord, 'id' | 'owner' | 'visibility' | 'created_at'>) => ({
  [TABLE_KEYS.gsi1.partition]: ownerIndexKey(image.owner ?? ''),
  [TABLE_KEYS.gsi1.sort]: createdSortKey(image.created_at, image.id),
  [TABLE_KEYS.gsi2.partition]: visibilityIndexKey(image.visibility),
  [TABLE_KEYS.gsi2.sort]: createdSortKey(image.created_at, image.id),
});

/**
 * Invariant: an image is in gsi3 exactly while something is due for it: under `UPLOAD` while
 * `upload` is set (the sweeper's Query sees every upload in flight, decision D2), under `SCRUB`
 * while it is `pending_delete` (the scrubber's, T20). Never both: a pending_delete image has no
 * upload.
 */
const setDueIndex = (update: UpdateBuilder, id: string, due: { partition: string; at: string } | null) => {
  if (due) {
    update
      .set(TABLE_KEYS.gsi3.partition, due.partition)
      .set(TABLE_KEYS.gsi3.sort, uploadDeadlineSortKey(due.at, id));
  } else {
    update.remove(update.name(TABLE_KEYS.gsi3.partition)).remove(update.name(TABLE_KEYS.gsi3.sort));
  }
};

const setUploadIndex = (update: UpdateBuilder, id: string, upload: PendingUpload | null) =>
  setDueIndex(update, id, upload ? { partition: PENDING_UPLOAD_PARTITION, at: upload.deadline } : null);

/** A page request on the gsi3 "due" index: everything due before `before` (ISO time). */
export interface DuePage {
  readonly before: string;
  readonly limit: number;
  readonly startKey?: Record<string, unknown>;
}

export class ImageRepository {
  private readonly table: Table;
  /** The images' members (docs/api.md#members), in the same table. */
  readonly members: MemberRepository;

  constructor(doc: DynamoDBDocumentClient, tableName: string) {
    this.table = { doc, tableName };
    this.members = new MemberRepository(doc, tableName);
  }

  /** Creates a new image; an id that was ever used (even deleted) is a 409 (docs/lifecycle.md#image-statuses). */
  async create(image: ImageRecord): Promise<void> {
    await putNew(
      this.table,
      { ...imageKey(image.id), ...indexKeys(image), ...encodeRecord(image, IMAGE_CODECS) },
      (cause) => new ImageConflict(`Image with identifier ${image.id} already exists!`, undefined, cause),
    );
  }

  /** The stored record, deleted ones included (callers decide what is visible). */
  async get(id: string): Promise<ImageRecord | undefined> {
    return getRecord<ImageRecord>(this.table, imageKey(id), IMAGE_CODECS);
  }

  /** The stored records of the ids that exist (deleted ones included), in no particular order. */
  async getMany(ids: readonly string[]): Promise<ImageRecord[]> {
    const items = await batchGetItems(this.table, ids.map(imageKey));
    return items.map((item) => stripKeys<ImageRecord>(item));
  }

  /**
   * Writes a decision of the status rules: the new status, a history entry and the given
   * attributes, conditional on the status and version the decision was made on. A no-op
   * decision writes nothing. Losing the race throws `ImageConflict` with the current record.
   */
  async transition(
    image: ImageRecord,
    decision: ImageDecision,
    options: TransitionOptions,
  ): Promise<ImageRecord> {
    if (decision.kind === 'noop') return image;
    const now = options.now ?? new Date();
    const entry: HistoryEntry = {
      from: decision.from,
      to: decision.to,
      trigger: decision.trigger,
      actor: options.actor,
      at: now.toISOString(),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.failure === undefined ? {} : { failure: options.failure }),
    };
    const killed = isKilled(decision.to);
    // Gone images leave the indexes: listings never see them and never pay for them.
    const gone = isGone(decision.to);
    const changes: ImageChanges = {
      ...(clearsSizeOnEntry(decision.to) ? { size: null, virtual_size: null } : {}),
      // Invariant: killed and gone images wait for no upload; a kill says why (D1).
      ...(killed || (gone && image.upload) ? { upload: null } : {}),
      ...options.set,
      ...(killed
        ? {
            properties: {
              ...options.set?.properties,
              // Shown to everyone who can see the image: URLs without their secrets. The
              // history entry keeps the whole reason for the owner (shared/redact.ts).
              [FAILURE_REASON_PROPERTY]: redactUrls(options.reason ?? 'Killed.'),
            },
          }
        : {}),
    };
    const properties = { ...image.properties, ...changes.properties };
    for (const key of options.removeProperties ?? []) delete properties[key];

    const update = new UpdateBuilder();
    expectStatusAndVersion(update, decision.from, image.version);
    bumpVersion(update, image, now).set('status', decision.to);
    for (const [attribute, value] of Object.entries(changes)) {
      if (attribute !== 'properties') update.set(attribute, value);
    }
    if (changes.properties || options.removeProperties?.length) {
      update.set('properties', encodeAttribute(IMAGE_CODECS, 'properties', properties));
    }
    update.setExpression(
      `${update.name('history')} = list_append(${update.name('history')}, ${update.value([entry])})`,
    );
    if (isPendingDelete(decision.to)) {
      setDueIndex(update, image.id, { partition: PENDING_SCRUB_PARTITION, at: now.toISOString() });
    } else if (changes.upload !== undefined || gone || isPendingDelete(decision.from)) {
      setUploadIndex(update, image.id, gone ? null : (changes.upload ?? null));
    }
    if (gone) {
      for (const key of [
        TABLE_KEYS.gsi1.partition,
        TABLE_KEYS.gsi1.sort,
        TABLE_KEYS.gsi2.partition,
        TABLE_KEYS.gsi2.sort,
      ]) {
        update.remove(update.name(key));
      }
    }

    const next: ImageRecord = {
      ...image,
      ...changes,
      properties,
      status: decision.to,
      version: image.version + 1,
      updated_at: now.toISOString(),
      history: [...image.history, entry],
    };
    await this.conditionalUpdate(image.id, update);
    return next;
  }

  /**
   * Saves client changes (PATCH, tags) made on `image` as read: conditional on its status and
   * version, so two concurrent edits can never silently overwrite each other.
   */
  async update(image: ImageRecord, changes: ImageChanges, now = new Date()): Promise<ImageRecord> {
    const next: ImageRecord = {
      ...image,
      ...changes,
      version: image.version + 1,
      updated_at: now.toISOString(),
    };
    const update = new UpdateBuilder();
    expectStatusAndVersion(update, image.status, image.version);
    bumpVersion(update, image, now);
    for (const [attribute, value] of Object.entries(changes)) {
      update.set(attribute, encodeAttribute(IMAGE_CODECS, attribute, value));
    }
    if (changes.upload !== undefined) setUploadIndex(update, image.id, changes.upload);
    if (changes.owner !== undefined || changes.visibility !== undefined) {
      for (const [key, value] of Object.entries(indexKeys(next))) update.set(key, value);
    }
    await this.conditionalUpdate(image.id, update);
    return next;
  }

  /** One page of a Query on an index partition, newest or oldest first. */
  async queryIndex(input: {
    index: 'gsi1' | 'gsi2';
    partition: string;
    descending: boolean;
    /** Exclusive bound on the index sort key: start after this position. */
    after?: string;
    limit: number;
    startKey?: Record<string, unknown>;
  }): Promise<{ images: ImageRecord[]; lastKey?: Record<string, unknown> }> {
    const { items, lastKey } = await queryPage(this.table, input);
    return {
      images: items.map((item) => stripKeys<ImageRecord>(item, IMAGE_CODECS)),
      ...(lastKey ? { lastKey } : {}),
    };
  }

  /**
   * One page of ids of images whose upload deadline is before `before` (ISO time), oldest first:
   * a Query on the sparse pending-upload index (gsi3), never a Scan.
   */
  expiredUploads(input: DuePage): Promise<{ ids: string[]; lastKey?: Record<string, unknown> }> {
    return this.due(PENDING_UPLOAD_PARTITION, input);
  }

  /** One page of ids of `pending_delete` images deleted before `before`, oldest first (gsi3). */
  pendingScrubs(input: DuePage): Promise<{ ids: string[]; lastKey?: Record<string, unknown> }> {
    return this.due(PENDING_SCRUB_PARTITION, input);
  }

  private async due(
    partition: string,
    input: DuePage,
  ): Promise<{ ids: string[]; lastKey?: Record<string, unknown> }> {
    const keys = TABLE_KEYS.gsi3;
    const { Items = [], LastEvaluatedKey } = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        IndexName: keys.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :before',
        ExpressionAttributeNames: { '#pk': keys.partition, '#sk': keys.sort },
        ExpressionAttributeValues: { ':pk': partition, ':before': input.before },
        ScanIndexForward: true,
        Limit: input.limit,
        ExclusiveStartKey: input.startKey,
      }),
    );
    const ids = Items.map((item) => String(item[TABLE_KEYS.partition]).replace(/^IMAGE#/, ''));
    return { ids, ...(LastEvaluatedKey ? { lastKey: LastEvaluatedKey } : {}) };
  }

  private async conditionalUpdate(id: string, update: UpdateBuilder): Promise<void> {
    await conditionalUpdate(
      this.table,
      imageKey(id),
      update,
      () => this.get(id),
      (current, cause) =>
        new ImageConflict(
          current
            ? `Image ${id} was changed by another request (now '${current.status}'); retry with its current state.`
            : `Image ${id} no longer exists.`,
          current,
          cause,
        ),
    );
  }
}
