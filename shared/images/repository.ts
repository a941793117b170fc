/**
 * Images in DynamoDB. Every image write is ONE single-item conditional request: creation on
 * `attribute_not_exists`, every status change and every PATCH on the expected status and
 * version. Around it, two things that live in other items and need no transaction:
 *
 * - history (decision B1, shared/images/history.ts): a transition's own update writes its entry
 *   into the image's outbox, after writing the previous entry as its history item (idempotent);
 * - quota usage (docs/quotas.md): a write that changes what the image holds reserves the
 *   difference on the owner's usage item first (413 when over a limit), records it on the image
 *   with the reservation's token, then settles it; a lost write gives it back.
 *
 * So every path that changes a status keeps history and usage right, and a crash between the
 * steps loses nothing: docs/quotas.md#crashes and docs/lifecycle.md#history say why.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  batchGetItems,
  bumpVersion,
  type Codecs,
  conditionalUpdate,
  duePage,
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
import { logger } from '#shared/logger';
import type { MemberReads } from '#shared/members/reads';
import { type UsageChange, usageChange } from '#shared/quotas/change';
import { UsageLedger } from '#shared/quotas/ledger';
import { type QuotaName, UNLIMITED } from '#shared/quotas/usage';
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
  HISTORY_SORT_PREFIX,
  historySortKey,
  imageKey,
  ownerIndexKey,
  PENDING_SCRUB_PARTITION,
  PENDING_UPLOAD_PARTITION,
  TABLE_KEYS,
  uploadDeadlineSortKey,
  visibilityIndexKey,
} from '#shared/table';
import { ACTOR_LENGTH, clipText, FAILURE_KIND_LENGTH, requireWithinBudget } from './budget.ts';
import { entryOfItem, type HistoryPage, historyItem, mergeHistory } from './history.ts';
import {
  FAILURE_REASON_PROPERTY,
  type HistoryEntry,
  type ImageRecord,
  LIMITS,
  type PendingUpload,
} from './model.ts';

/** A conditional write lost: someone else changed the image first. Carries what it is now. */
export class ImageConflict extends RecordConflict<ImageRecord> {}

/** Attributes of an image that a transition or an update may set. */
export type ImageChanges = Partial<
  Omit<ImageRecord, 'id' | 'status' | 'version' | 'outbox' | 'held' | 'created_at'>
>;

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

/** The steps of one image write, in order (a step without work is skipped). */
export type WriteStep = 'history-flushed' | 'usage-reserved' | 'image-written' | 'usage-settled';

export interface ImageRepositoryOptions {
  /** The quota ledger; by default one with unlimited deployment limits. */
  readonly ledger?: UsageLedger;
  /**
   * Tests only: runs after each step of a write. Throwing there stops the write as a crash of the
   * function would at that point (nothing after it runs, nothing is undone).
   */
  readonly afterStep?: (step: WriteStep, imageId: string) => void | Promise<void>;
}

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

/** History entries a container remembers having written (a bound on its memory, not a correctness limit). */
const FLUSHED_REMEMBERED = 10_000;

/**
 * `M`: what the function may do with members, in the same table: read them (every image function,
 * for the policy and the listing) or also write them (the member routes and deletes); given by the
 * runtime wiring, so a function that never writes members does not bundle the writes.
 */
export class ImageReads<M extends MemberReads = MemberReads> {
  protected readonly table: Table;
  /** The images' members (docs/api.md#members). */
  readonly members: M;

  constructor(doc: DynamoDBDocumentClient, tableName: string, members: M) {
    this.table = { doc, tableName };
    this.members = members;
  }

  /** The stored record, deleted ones included (callers decide what is visible). */
  async get(id: string): Promise<ImageRecord | undefined> {
    return getRecord<ImageRecord>(this.table, imageKey(id), IMAGE_CODECS);
  }

  /** The stored records of the ids that exist (deleted ones included), in no particular order. */
  async getMany(ids: readonly string[]): Promise<ImageRecord[]> {
    const items = await batchGetItems(this.table, ids.map(imageKey));
    return items.map((item) => stripKeys<ImageRecord>(item, IMAGE_CODECS));
  }

  /**
   * One page of the image's history, oldest first, after version `after`: its history items
   * (a consistent Query on its partition) merged with the entry still in its outbox.
   */
  async historyPage(image: ImageRecord, page: { after?: number; limit: number }): Promise<HistoryPage> {
    const after = page.after ?? 0;
    const items: HistoryEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    let complete = false;
    while (items.length <= page.limit) {
      const { Items = [], LastEvaluatedKey } = await this.table.doc.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': TABLE_KEYS.partition, '#sk': TABLE_KEYS.sort },
          ExpressionAttributeValues: {
            ':pk': imageKey(image.id).pk,
            ':from': historySortKey(after + 1),
            ':to': `${HISTORY_SORT_PREFIX}~`,
          },
          ConsistentRead: true,
          Limit: page.limit + 1 - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...Items.map(entryOfItem));
      startKey = LastEvaluatedKey;
      if (!startKey) {
        complete = true;
        break;
      }
    }
    return mergeHistory(items, image.outbox ?? [], after, page.limit, complete);
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
    const { keys, lastKey } = await duePage(this.table, partition, input);
    return { ids: keys.map((key) => key.replace(/^IMAGE#/, '')), ...(lastKey ? { lastKey } : {}) };
  }
}

/**
 * The image writes, on top of the reads: given by the runtime wiring to the functions that write
 * images, with the quota ledger; a function that only reads images bundles none of this.
 */
export class ImageRepository<M extends MemberReads = MemberReads> extends ImageReads<M> {
  private readonly flushed = new Set<string>();
  readonly ledger: UsageLedger;
  private readonly afterStep: NonNullable<ImageRepositoryOptions['afterStep']>;

  constructor(
    doc: DynamoDBDocumentClient,
    tableName: string,
    members: M,
    options: ImageRepositoryOptions = {},
  ) {
    super(doc, tableName, members);
    this.ledger = options.ledger ?? new UsageLedger(this.table, () => UNLIMITED);
    this.afterStep = options.afterStep ?? (() => {});
  }

  /**
   * Creates a new image, holding one image of its owner's `image_count_total` (413 when over).
   * An id that was ever used (even deleted) is a 409 (docs/lifecycle.md#image-statuses).
   * Returns the record as stored.
   */
  async create(image: ImageRecord): Promise<ImageRecord> {
    requireWithinBudget(image);
    const change = usageChange(undefined, image);
    const record: ImageRecord = { ...image, held: change?.held ?? null };
    await this.withUsage(image.id, change, () =>
      putNew(
        this.table,
        { ...imageKey(image.id), ...indexKeys(record), ...encodeRecord(record, IMAGE_CODECS) },
        (cause) => new ImageConflict(`Image with identifier ${image.id} already exists!`, undefined, cause),
      ),
    );
    return record;
  }

  /**
   * Writes a decision of the status rules: the new status, its history entry and the given
   * attributes, conditional on the status and version the decision was made on, with the usage
   * the new status holds reserved first (`QuotaExceeded`, 413, and nothing written when over a
   * limit). A no-op decision writes nothing. Losing the race throws `ImageConflict` with the
   * current record.
   */
  async transition(
    image: ImageRecord,
    decision: ImageDecision,
    options: TransitionOptions,
  ): Promise<ImageRecord> {
    if (decision.kind === 'noop') return image;
    const now = options.now ?? new Date();
    const reason = options.reason === undefined ? undefined : clipText(options.reason, LIMITS.reasonLength);
    const entry: HistoryEntry = {
      version: image.version + 1,
      from: decision.from,
      to: decision.to,
      trigger: decision.trigger,
      actor: clipText(options.actor, ACTOR_LENGTH),
      at: now.toISOString(),
      ...(reason === undefined ? {} : { reason }),
      ...(options.failure === undefined ? {} : { failure: clipText(options.failure, FAILURE_KIND_LENGTH) }),
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
              [FAILURE_REASON_PROPERTY]: redactUrls(reason ?? 'Killed.'),
            },
          }
        : {}),
    };
    const properties = { ...image.properties, ...changes.properties };
    for (const key of options.removeProperties ?? []) delete properties[key];

    let next: ImageRecord = {
      ...image,
      ...changes,
      properties,
      status: decision.to,
      version: image.version + 1,
      updated_at: now.toISOString(),
      outbox: [entry],
    };
    const usage = usageChange(image, next);
    if (usage) next = { ...next, held: usage.held };

    const update = new UpdateBuilder();
    expectStatusAndVersion(update, decision.from, image.version);
    bumpVersion(update, image, now).set('status', decision.to);
    for (const [attribute, value] of Object.entries(changes)) {
      if (attribute !== 'properties') update.set(attribute, value);
    }
    if (changes.properties || options.removeProperties?.length) {
      update.set('properties', encodeAttribute(IMAGE_CODECS, 'properties', properties));
    }
    // The entry goes with the transition it describes; the one it replaces is already an item.
    update.set('outbox', next.outbox);
    if (usage) update.set('held', usage.held);
    if (isPendingDelete(decision.to)) {
      setDueIndex(update, image.id, { partition: PENDING_SCRUB_PARTITION, at: now.toISOString() });
    } else if (changes.upload !== undefined || gone || isPendingDelete(decision.from)) {
      setUploadIndex(update, image.id, gone ? null : (changes.upload ?? null));
    }
    if (!gone && (changes.owner !== undefined || changes.visibility !== undefined)) {
      // Invariant: an image is listed under the owner and visibility it has (as in `update`).
      for (const [key, value] of Object.entries(indexKeys(next))) update.set(key, value);
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

    await this.withUsage(
      image.id,
      usage,
      () => this.conditionalUpdate(image.id, update),
      () => this.flushOutbox(image),
    );
    return next;
  }

  /**
   * Saves changes made on `image` as read (PATCH, tags, the import lock, a re-signed upload):
   * conditional on its status and version, so two concurrent edits can never silently overwrite
   * each other. 413 when the image would outgrow its budget (shared/images/budget.ts) or, when an
   * administrator gives it to another project, that project's quotas.
   */
  async update(image: ImageRecord, changes: ImageChanges, now = new Date()): Promise<ImageRecord> {
    let next: ImageRecord = {
      ...image,
      ...changes,
      version: image.version + 1,
      updated_at: now.toISOString(),
    };
    requireWithinBudget(next, image);
    const usage = usageChange(image, next);
    if (usage) next = { ...next, held: usage.held };
    const update = new UpdateBuilder();
    expectStatusAndVersion(update, image.status, image.version);
    bumpVersion(update, image, now);
    for (const [attribute, value] of Object.entries(changes)) {
      update.set(attribute, encodeAttribute(IMAGE_CODECS, attribute, value));
    }
    if (usage) update.set('held', usage.held);
    if (changes.upload !== undefined) setUploadIndex(update, image.id, changes.upload);
    if (changes.owner !== undefined || changes.visibility !== undefined) {
      for (const [key, value] of Object.entries(indexKeys(next))) update.set(key, value);
    }
    await this.withUsage(image.id, usage, () => this.conditionalUpdate(image.id, update));
    return next;
  }

  /**
   * Makes any write decided on `image` as read lose its condition, changing nothing else: the
   * sweeper's way to be sure a crashed writer's write can no longer land (docs/quotas.md#crashes).
   */
  async fence(image: ImageRecord): Promise<void> {
    const update = new UpdateBuilder();
    expectStatusAndVersion(update, image.status, image.version);
    update.set('version', image.version + 1);
    await this.conditionalUpdate(image.id, update);
  }

  /**
   * Bytes of data the image may still take under its owner's `quota` (its own reservation
   * included), or the size cap's business when unlimited: for reads that stop early.
   */
  roomFor(image: ImageRecord, quota: QuotaName): Promise<number> {
    return this.ledger.room(image.owner, quota, image.held?.[quota] ?? 0);
  }

  /**
   * Writes the outbox entries of `image` as history items. Idempotent: an entry already written
   * (by a transition that crashed right after, or a concurrent one) is left as it is; one this
   * container wrote already (a retry after a lost race) is not written again.
   */
  private async flushOutbox(image: ImageRecord): Promise<void> {
    for (const entry of image.outbox ?? []) {
      const key = `${image.id}@${entry.version}`;
      if (this.flushed.has(key)) continue;
      try {
        await this.table.doc.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: historyItem(image.id, entry),
            // Invariant: a history entry is written once; entries are immutable.
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      if (this.flushed.size >= FLUSHED_REMEMBERED) this.flushed.clear();
      this.flushed.add(key);
    }
    await this.afterStep('history-flushed', image.id);
  }

  /**
   * Runs an image write with what must be durable before it: `prepare` (the history flush) and
   * the usage it changes, reserved (413 when over a limit, and the write never runs), both at
   * once. The reservation is settled after the write, given back when the write lost its
   * condition; any other failure of the write may have written it, so the reservation stays
   * pending and the sweeper resolves it from the image (docs/quotas.md#crashes).
   */
  private async withUsage(
    imageId: string,
    usage: UsageChange | undefined,
    write: () => Promise<void>,
    prepare: () => Promise<void> = async () => {},
  ) {
    const [prepared, reserved] = await Promise.allSettled([
      prepare(),
      usage ? this.ledger.reserve(usage).then(() => this.afterStep('usage-reserved', imageId)) : undefined,
    ]);
    if (prepared.status === 'rejected' || reserved.status === 'rejected') {
      if (usage && reserved.status === 'fulfilled') await this.giveBack(imageId, usage);
      throw prepared.status === 'rejected' ? prepared.reason : (reserved as PromiseRejectedResult).reason;
    }
    try {
      await write();
    } catch (error) {
      if (!usage || !(error instanceof ImageConflict)) throw error;
      if (!(await this.recordsToken(imageId, usage, error))) {
        await this.giveBack(imageId, usage);
        throw error;
      }
      // The condition failed on this very write: it landed and its answer was lost, and the SDK
      // sent it again. It is settled as the write it is, never given back.
    }
    await this.afterStep('image-written', imageId);
    if (!usage) return;
    await this.ledger
      .settle(usage)
      .catch((cause: unknown) =>
        logger.warn('could not settle a reservation (the sweeper will)', { imageId, error: cause as Error }),
      );
    await this.afterStep('usage-settled', imageId);
  }

  /**
   * Whether the image records this write's token: then the write landed, whatever its answer said
   * (the token names one attempt of one write, docs/quotas.md#crashes).
   */
  private async recordsToken(imageId: string, usage: UsageChange, conflict: ImageConflict): Promise<boolean> {
    const current = conflict.current ?? (await this.get(imageId));
    return current?.held?.token === usage.token;
  }

  /** Releases a reservation whose image write did not happen; the sweeper does it if this fails. */
  private async giveBack(imageId: string, usage: UsageChange): Promise<void> {
    await this.ledger.release(usage).catch((cause: unknown) =>
      logger.error('could not release a reservation (the sweeper will)', {
        imageId,
        error: cause as Error,
      }),
    );
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
