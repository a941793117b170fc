/**
 * The DynamoDB mechanics the image and task repositories share: conditional single-item writes,
 * one page of an index Query, and turning a stored item back into a record. Each repository keeps
 * its own keys, conditions and conflict errors; this module only knows the table layout
 * (shared/table.ts).
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from './table.ts';

export type Item = Record<string, unknown>;

/** The document client the repositories use: undefined attributes are left out, never written as NULL. */
export const documentClientOf = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });

/** The single table and the client that reaches it. */
export interface Table {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
}

/**
 * Builds `SET a = :a, ...` for a set of attributes with placeholder names, so that reserved
 * words (`size`, `name`, `status`, `protected`) are always safe.
 */
export class UpdateBuilder {
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  private readonly conditions: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private counter = 0;

  name(attribute: string): string {
    const placeholder = `#${attribute.replace(/[^A-Za-z0-9_]/g, '_')}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  value(value: unknown): string {
    const placeholder = `:v${this.counter++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  set(attribute: string, value: unknown): this {
    this.sets.push(`${this.name(attribute)} = ${this.value(value)}`);
    return this;
  }

  setExpression(expression: string): this {
    this.sets.push(expression);
    return this;
  }

  remove(path: string): this {
    this.removes.push(path);
    return this;
  }

  condition(expression: string): this {
    this.conditions.push(expression);
    return this;
  }

  build() {
    const parts = [];
    if (this.sets.length) parts.push(`SET ${this.sets.join(', ')}`);
    if (this.removes.length) parts.push(`REMOVE ${this.removes.join(', ')}`);
    return {
      UpdateExpression: parts.join(' '),
      ConditionExpression: this.conditions.join(' AND '),
      ExpressionAttributeNames: this.names,
      ExpressionAttributeValues: this.values,
    };
  }
}

/** Invariant: the item still has the status and version the caller decided on. */
export const expectStatusAndVersion = (update: UpdateBuilder, status: string, version: number) =>
  update
    .condition(`${update.name('status')} = ${update.value(status)}`)
    .condition(`${update.name('version')} = ${update.value(version)}`);

/** Invariant: every write bumps the version, so any two writes from one read conflict. */
export const bumpVersion = (update: UpdateBuilder, record: { readonly version: number }, now: Date) =>
  update.set('version', record.version + 1).set('updated_at', now.toISOString());

const KEY_ATTRIBUTES: ReadonlySet<string> = new Set([
  TABLE_KEYS.partition,
  TABLE_KEYS.sort,
  ...[TABLE_KEYS.gsi1, TABLE_KEYS.gsi2, TABLE_KEYS.gsi3].flatMap((index) => [index.partition, index.sort]),
]);

/**
 * How one attribute of a record is stored, when storing it as it is would be unsafe. A name a
 * client chooses must never become a key of a DynamoDB map: the SDK's marshaller takes an object
 * with an own `constructor` member for a class instance and refuses it, and a member named
 * `__proto__` is dropped on the way (by the marshaller and by the local emulator), so such maps
 * are stored in a form whose keys are all ours (docs/architecture.md#data-model).
 */
export interface AttributeCodec {
  encode(value: unknown): unknown;
  decode(stored: unknown): unknown;
}

/**
 * A map whose keys a client names, with string values (image properties): stored as a list of
 * `[name, value]` pairs, read back into a plain object whose members are all own data properties
 * (`Object.fromEntries`). A map stored by an earlier version reads as it is.
 */
export const namedPairs: AttributeCodec = {
  encode: (value) => Object.entries(value as Record<string, unknown>),
  decode: (stored) => (Array.isArray(stored) ? Object.fromEntries(stored) : (stored ?? {})),
};

/**
 * Any JSON value a client shapes (task `input` and `result`): stored as its JSON text, so neither
 * its member names nor its depth reach DynamoDB. `null` stays `null`; a map stored by an earlier
 * version reads as it is.
 */
export const jsonText: AttributeCodec = {
  encode: (value) => (value === null || value === undefined ? value : JSON.stringify(value)),
  decode: (stored) => (typeof stored === 'string' ? JSON.parse(stored) : (stored ?? null)),
};

/** The codec of each attribute that has one; every other attribute is stored as it is. */
export type Codecs = Readonly<Record<string, AttributeCodec>>;

/** The stored form of one attribute's value. */
export const encodeAttribute = (codecs: Codecs, attribute: string, value: unknown): unknown =>
  Object.hasOwn(codecs, attribute) && value !== undefined
    ? (codecs[attribute] as AttributeCodec).encode(value)
    : value;

/** A record's attributes in their stored form, for a new item. */
export const encodeRecord = (record: object, codecs: Codecs): Item =>
  Object.fromEntries(
    Object.entries(record).map(([attribute, value]) => [
      attribute,
      encodeAttribute(codecs, attribute, value),
    ]),
  );

/** The record stored in an item: the table and index keys are storage, not part of it. */
export const stripKeys = <T>(item: Item, codecs: Codecs = {}): T =>
  Object.fromEntries(
    Object.entries(item)
      .filter(([attribute]) => !KEY_ATTRIBUTES.has(attribute))
      .map(([attribute, stored]) => [
        attribute,
        Object.hasOwn(codecs, attribute) ? (codecs[attribute] as AttributeCodec).decode(stored) : stored,
      ]),
  ) as T;

/** The record under `key` as stored now (a consistent read), or `undefined`. */
export const getRecord = async <T>(table: Table, key: Item, codecs: Codecs = {}): Promise<T | undefined> => {
  const { Item } = await table.doc.send(
    new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
  );
  return Item ? stripKeys<T>(Item, codecs) : undefined;
};

/** BatchGetItem takes at most this many keys per request. */
const BATCH_GET_KEYS = 100;

/**
 * The items under `keys` that exist (consistent reads, any order), in BatchGetItem requests of
 * 100 keys; keys DynamoDB leaves unprocessed are asked again after a short, growing pause.
 */
export const batchGetItems = async (
  table: Table,
  keys: readonly Item[],
  projection?: { ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> },
): Promise<Item[]> => {
  const found: Item[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_KEYS) {
    let pending = keys.slice(start, start + BATCH_GET_KEYS);
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** round)));
      const { Responses = {}, UnprocessedKeys = {} } = await table.doc.send(
        new BatchGetCommand({
          RequestItems: { [table.tableName]: { Keys: [...pending], ConsistentRead: true, ...projection } },
        }),
      );
      found.push(...(Responses[table.tableName] ?? []));
      pending = (UnprocessedKeys[table.tableName]?.Keys as Item[] | undefined) ?? [];
    }
  }
  return found;
};

/**
 * Creates an item that must not exist yet. Losing that condition throws `conflict(cause)`, so
 * each repository reports a clash with its own error.
 */
export const putNew = async (
  table: Table,
  item: Item,
  conflict: (cause: ConditionalCheckFailedException) => Error,
): Promise<void> => {
  try {
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: item,
        // Invariant: a create never overwrites; ids are never reused (deleted images stay as tombstones).
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw conflict(error);
    throw error;
  }
};

/**
 * Runs a conditional update. When its condition fails, throws `conflict(current, cause)` with the
 * item as it is now (`undefined` if gone), so the caller can retry on the real state.
 */
export const conditionalUpdate = async <T>(
  table: Table,
  key: Item,
  update: UpdateBuilder,
  read: () => Promise<T | undefined>,
  conflict: (current: T | undefined, cause: ConditionalCheckFailedException) => Error,
): Promise<void> => {
  try {
    await table.doc.send(new UpdateCommand({ TableName: table.tableName, Key: key, ...update.build() }));
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // The local DynamoDB ignores ReturnValuesOnConditionCheckFailure: read the real state.
    throw conflict(await read(), error);
  }
};

/** One page of a Query on a gsi1/gsi2 partition, newest or oldest first. */
export const queryPage = async (
  table: Table,
  input: {
    index: 'gsi1' | 'gsi2';
    partition: string;
    descending: boolean;
    /** Exclusive bound on the index sort key: start after this position. */
    after?: string;
    limit: number;
    startKey?: Item;
  },
): Promise<{ items: Item[]; lastKey?: Item }> => {
  const keys = TABLE_KEYS[input.index];
  const bounded = input.after !== undefined;
  const params: QueryCommandInput = {
    TableName: table.tableName,
    IndexName: keys.name,
    KeyConditionExpression: bounded
      ? `#pk = :pk AND #sk ${input.descending ? '<' : '>'} :after`
      : '#pk = :pk',
    ExpressionAttributeNames: { '#pk': keys.partition, ...(bounded ? { '#sk': keys.sort } : {}) },
    ExpressionAttributeValues: { ':pk': input.partition, ...(bounded ? { ':after': input.after } : {}) },
    ScanIndexForward: !input.descending,
    Limit: input.limit,
    ExclusiveStartKey: input.startKey,
  };
  const { Items = [], LastEvaluatedKey } = await table.doc.send(new QueryCommand(params));
  return { items: Items, ...(LastEvaluatedKey ? { lastKey: LastEvaluatedKey } : {}) };
};

/**
 * One page of a sparse gsi3 "due" partition (pending uploads, scrubs, tasks, reservations), oldest
 * first, entries whose sort key (a time first) is before `before`: the table partition keys of
 * the items due. The sweeper's every backlog is one Query here, never a Scan.
 */
export const duePage = async (
  table: Table,
  partition: string,
  input: { before: string; limit: number; startKey?: Item },
): Promise<{ keys: string[]; lastKey?: Item }> => {
  const index = TABLE_KEYS.gsi3;
  const { Items = [], LastEvaluatedKey } = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      IndexName: index.name,
      KeyConditionExpression: '#pk = :pk AND #sk < :before',
      ExpressionAttributeNames: { '#pk': index.partition, '#sk': index.sort },
      ExpressionAttributeValues: { ':pk': partition, ':before': input.before },
      ScanIndexForward: true,
      Limit: input.limit,
      ExclusiveStartKey: input.startKey,
    }),
  );
  const keys = Items.map((item) => String(item[TABLE_KEYS.partition]));
  return { keys, ...(LastEvaluatedKey ? { lastKey: LastEvaluatedKey } : {}) };
};
