/**
 * The metadefs catalog in the single table (keys: shared/table.ts; layout, and why a namespace is
 * one item with a serialized `content`: docs/metadefs.md#storage). Every change is one conditional
 * write on the version read, except a rename, which is keyed by name and so takes two writes.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { getRecord, type Item, putNew, queryPage, stripKeys, type Table } from '#shared/dynamo';
import { Conflict, PayloadTooLarge, RecordConflict } from '#shared/errors';
import {
  METADEF_CATALOG_MARKER_KEY,
  METADEF_NAMESPACES_PARTITION,
  METADEF_RESOURCE_TYPES_PARTITION,
  metadefNamespaceKey,
  metadefResourceTypeKey,
  TABLE_KEYS,
} from '#shared/table';
import {
  contentBytes,
  contentOf,
  METADEF_LIMITS,
  type NamespaceContent,
  type NamespaceRecord,
  type ResourceTypeRecord,
} from './model.ts';

/**
 * A conditional write lost a race with another write to the same namespace (retried by
 * shared/retry.ts; the fresh namespace is read again, so it carries none).
 */
export class NamespaceChanged extends RecordConflict<NamespaceRecord> {
  constructor(namespace: string, cause?: unknown) {
    super(
      `Metadata definition namespace ${namespace} was changed by another request; try again.`,
      undefined,
      cause,
    );
  }
}

/** Invariant: a write applies to the namespace exactly as it was read. */
const UNCHANGED = {
  ConditionExpression: '#version = :version',
  ExpressionAttributeNames: { '#version': 'version' },
};

const PAGE = 200;

const isConditionFailure = (error: unknown): error is ConditionalCheckFailedException =>
  error instanceof ConditionalCheckFailedException;

export class MetadefRepository {
  private readonly table: Table;

  constructor(doc: DynamoDBDocumentClient, tableName: string) {
    this.table = { doc, tableName };
  }

  /** The item for a record; 413 when what it holds is over the budget of one item. */
  private namespaceItem(record: NamespaceRecord): Item {
    const bytes = contentBytes(record);
    if (bytes > METADEF_LIMITS.contentBytes) {
      throw new PayloadTooLarge(
        `Metadata definition namespace ${record.namespace} would hold ${bytes} bytes of definitions; at most ${METADEF_LIMITS.contentBytes} are allowed.`,
      );
    }
    const { resource_type_associations, properties, objects, tags, ...attributes } = record;
    return {
      ...metadefNamespaceKey(record.namespace),
      [TABLE_KEYS.gsi1.partition]: METADEF_NAMESPACES_PARTITION,
      [TABLE_KEYS.gsi1.sort]: record.namespace,
      ...attributes,
      content: JSON.stringify(contentOf(record)),
    };
  }

  private static fromItem(item: Item): NamespaceRecord {
    const { content, ...attributes } = stripKeys<Record<string, unknown>>(item);
    return {
      ...(attributes as Omit<NamespaceRecord, keyof NamespaceContent>),
      ...JSON.parse(String(content)),
    };
  }

  async getNamespace(namespace: string): Promise<NamespaceRecord | undefined> {
    const { Item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: metadefNamespaceKey(namespace),
        ConsistentRead: true,
      }),
    );
    return Item ? MetadefRepository.fromItem(Item) : undefined;
  }

  /** A new namespace; 409 when the name is taken (names are unique across all projects). */
  async createNamespace(record: NamespaceRecord): Promise<void> {
    await putNew(
      this.table,
      this.namespaceItem(record),
      (cause) =>
        new Conflict(`The metadata definition namespace=${record.namespace} already exists.`, { cause }),
    );
  }

  /**
   * Writes `next` over `read` (a new name renames it) and returns what was written, version bumped.
   * `NamespaceChanged` when `read` is no longer current.
   */
  async saveNamespace(read: NamespaceRecord, next: NamespaceRecord): Promise<NamespaceRecord> {
    const written = { ...next, version: read.version + 1 };
    if (next.namespace !== read.namespace) {
      await this.rename(read, written);
      return written;
    }
    try {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: this.namespaceItem(written),
          ...UNCHANGED,
          ExpressionAttributeValues: { ':version': read.version },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new NamespaceChanged(read.namespace, error);
      throw error;
    }
    return written;
  }

  private async rename(read: NamespaceRecord, written: NamespaceRecord): Promise<void> {
    await putNew(
      this.table,
      this.namespaceItem(written),
      (cause) =>
        new Conflict(
          `Invalid update. It would result in a duplicate metadata definition namespace with the same name of ${written.namespace}`,
          { cause },
        ),
    );
    try {
      await this.deleteIfUnchanged(read);
    } catch (error) {
      // The old namespace changed meanwhile: take the new name back, so the caller retries from scratch.
      if (error instanceof NamespaceChanged) await this.deleteIfUnchanged(written).catch(() => {});
      throw error;
    }
  }

  /** Deletes the namespace and everything in it, if it is still as read. */
  async deleteNamespace(read: NamespaceRecord): Promise<void> {
    await this.deleteIfUnchanged(read);
  }

  private async deleteIfUnchanged(read: NamespaceRecord): Promise<void> {
    try {
      await this.table.doc.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: metadefNamespaceKey(read.namespace),
          ...UNCHANGED,
          ExpressionAttributeValues: { ':version': read.version },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new NamespaceChanged(read.namespace, error);
      throw error;
    }
  }

  /** Every namespace, by name: Queries of the namespaces partition, page after page. */
  async listNamespaces(): Promise<NamespaceRecord[]> {
    const items = await this.queryAll(METADEF_NAMESPACES_PARTITION);
    return items.map(MetadefRepository.fromItem);
  }

  private async queryAll(partition: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await queryPage(this.table, {
        index: 'gsi1',
        partition,
        descending: false,
        limit: PAGE,
        startKey,
      });
      items.push(...page.items);
      startKey = page.lastKey;
    } while (startKey);
    return items;
  }

  // --- resource types -----------------------------------------------------------------------

  async getResourceType(name: string): Promise<ResourceTypeRecord | undefined> {
    return getRecord<ResourceTypeRecord>(this.table, metadefResourceTypeKey(name));
  }

  async listResourceTypes(): Promise<ResourceTypeRecord[]> {
    const items = await this.queryAll(METADEF_RESOURCE_TYPES_PARTITION);
    return items.map((item) => stripKeys<ResourceTypeRecord>(item));
  }

  /** Creates the resource types that do not exist yet; existing ones are left as they are. */
  async ensureResourceTypes(
    names: readonly string[],
    options: { protected: boolean; now: Date },
  ): Promise<void> {
    const at = options.now.toISOString();
    for (const name of new Set(names)) {
      const type: ResourceTypeRecord = { name, protected: options.protected, created_at: at, updated_at: at };
      await putNew(
        this.table,
        {
          ...metadefResourceTypeKey(name),
          [TABLE_KEYS.gsi1.partition]: METADEF_RESOURCE_TYPES_PARTITION,
          [TABLE_KEYS.gsi1.sort]: name,
          ...type,
        },
        (cause) => cause,
      ).catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
    }
  }

  // --- the starter catalog ------------------------------------------------------------------

  /** Whether the starter catalog was ever loaded into this table (so deleting it sticks). */
  async isCatalogSeeded(): Promise<boolean> {
    const { Item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: METADEF_CATALOG_MARKER_KEY,
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  async markCatalogSeeded(now: Date): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...METADEF_CATALOG_MARKER_KEY, seeded_at: now.toISOString() },
      }),
    );
  }
}
