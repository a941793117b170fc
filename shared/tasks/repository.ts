/**
 * Tasks in DynamoDB, next to the images in the single table (keys in shared/table.ts). Like
 * images, every write is one conditional single-item request: creation on
 * `attribute_not_exists`, every status change and every touch on the status and version that
 * were read. A lost race throws `TaskConflict` carrying the current record.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  bumpVersion,
  type Codecs,
  conditionalUpdate,
  duePage,
  encodeAttribute,
  encodeRecord,
  expectStatusAndVersion,
  getRecord,
  type Item,
  jsonText,
  putNew,
  queryPage,
  stripKeys,
  type Table,
  UpdateBuilder,
} from '#shared/dynamo';
import { RecordConflict } from '#shared/errors';
import { isTaskPending, isTerminalTaskStatus, type TaskDecision } from '#shared/status-rules';
import {
  ALL_TASKS_INDEX_KEY,
  createdSortKey,
  PENDING_TASK_PARTITION,
  TABLE_KEYS,
  taskImageIndexKey,
  taskKey,
} from '#shared/table';
import type { TaskRecord } from './model.ts';

/** A conditional write lost: the task changed since it was read. Carries what it is now. */
export class TaskConflict extends RecordConflict<TaskRecord> {}

export interface TaskTransitionOptions {
  /** `result` and `message` written with the status. */
  readonly set?: Partial<Pick<TaskRecord, 'result' | 'message' | 'execution'>>;
  /** Hours a finished task stays listed (`expires_at`), docs/lifecycle.md#task-statuses. */
  readonly timeToLiveHours: number;
  readonly now?: Date;
}

/** `input` and `result` are shaped by clients: stored as JSON text (shared/dynamo.ts). */
const TASK_CODECS: Codecs = { input: jsonText, result: jsonText };

/**
 * Invariant: a task is in gsi3 (partition `PENDING_TASK`) exactly while it is `pending`, so the
 * sweeper finds those whose execution never took them with one Query, never a Scan.
 */
const pendingIndexKeys = (task: Pick<TaskRecord, 'id' | 'created_at' | 'status'>): Item =>
  isTaskPending(task.status)
    ? {
        [TABLE_KEYS.gsi3.partition]: PENDING_TASK_PARTITION,
        [TABLE_KEYS.gsi3.sort]: createdSortKey(task.created_at, task.id),
      }
    : {};

const indexKeys = (task: Pick<TaskRecord, 'id' | 'created_at' | 'image_id'>): Item => ({
  [TABLE_KEYS.gsi1.partition]: ALL_TASKS_INDEX_KEY,
  [TABLE_KEYS.gsi1.sort]: createdSortKey(task.created_at, task.id),
  ...(task.image_id
    ? {
        [TABLE_KEYS.gsi2.partition]: taskImageIndexKey(task.image_id),
        [TABLE_KEYS.gsi2.sort]: createdSortKey(task.created_at, task.id),
      }
    : {}),
});

/** `expires_at` of a task finishing now (docs/lifecycle.md#task-statuses). */
export const expiryOf = (now: Date, timeToLiveHours: number): string =>
  new Date(now.getTime() + timeToLiveHours * 3_600_000).toISOString();

export class TaskRepository {
  private readonly table: Table;

  constructor(doc: DynamoDBDocumentClient, tableName: string) {
    this.table = { doc, tableName };
  }

  async create(task: TaskRecord): Promise<void> {
    await putNew(
      this.table,
      {
        ...taskKey(task.id),
        ...indexKeys(task),
        ...pendingIndexKeys(task),
        ...encodeRecord(task, TASK_CODECS),
      },
      (cause) => new TaskConflict(`Task ${task.id} already exists.`, undefined, cause),
    );
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    return getRecord<TaskRecord>(this.table, taskKey(id), TASK_CODECS);
  }

  /**
   * Writes a decision of `decideTask`, conditional on the status and version it was made on.
   * Entering a terminal status sets `expires_at` (and the TTL attribute).
   */
  async transition(
    task: TaskRecord,
    decision: TaskDecision,
    options: TaskTransitionOptions,
  ): Promise<TaskRecord> {
    const now = options.now ?? new Date();
    const expires = isTerminalTaskStatus(decision.to) ? expiryOf(now, options.timeToLiveHours) : null;
    const changes: Partial<TaskRecord> = {
      ...options.set,
      status: decision.to,
      expires_at: expires,
      ...(expires ? { ttl: Math.floor(Date.parse(expires) / 1000) } : {}),
    };
    return this.write(task, decision.from, changes, now);
  }

  /**
   * Refreshes `updated_at` of a running task (Glance's progress updates, docs/import-workflow.md#import-lock): a task
   * that keeps working never looks like a stale lock. Conditional like every write.
   */
  async touch(task: TaskRecord, now = new Date()): Promise<TaskRecord> {
    return this.write(task, task.status, {}, now);
  }

  /** One page of every task, newest or oldest first, after an exclusive index position. */
  async queryAll(input: {
    descending: boolean;
    after?: string;
    limit: number;
    startKey?: Record<string, unknown>;
  }): Promise<{ tasks: TaskRecord[]; lastKey?: Record<string, unknown> }> {
    return this.query('gsi1', ALL_TASKS_INDEX_KEY, input);
  }

  /**
   * One page of ids of tasks still `pending` that were created before `before` (ISO time), oldest
   * first: a Query on the sparse gsi3 partition `PENDING_TASK`, never a Scan.
   */
  async pendingSince(input: {
    before: string;
    limit: number;
    startKey?: Record<string, unknown>;
  }): Promise<{ ids: string[]; lastKey?: Record<string, unknown> }> {
    const { keys, lastKey } = await duePage(this.table, PENDING_TASK_PARTITION, input);
    return { ids: keys.map((key) => key.replace(/^TASK#/, '')), ...(lastKey ? { lastKey } : {}) };
  }

  /** Every task of an image, oldest first. */
  async listByImage(imageId: string): Promise<TaskRecord[]> {
    const tasks: TaskRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.query('gsi2', taskImageIndexKey(imageId), {
        descending: false,
        limit: 100,
        startKey,
      });
      tasks.push(...page.tasks);
      startKey = page.lastKey;
    } while (startKey);
    return tasks;
  }

  private async query(
    index: 'gsi1' | 'gsi2',
    partition: string,
    input: { descending: boolean; after?: string; limit: number; startKey?: Record<string, unknown> },
  ): Promise<{ tasks: TaskRecord[]; lastKey?: Record<string, unknown> }> {
    const { items, lastKey } = await queryPage(this.table, { ...input, index, partition });
    return {
      tasks: items.map((item) => stripKeys<TaskRecord>(item, TASK_CODECS)),
      ...(lastKey ? { lastKey } : {}),
    };
  }

  private async write(
    task: TaskRecord,
    expectedStatus: TaskRecord['status'],
    changes: Partial<TaskRecord>,
    now: Date,
  ): Promise<TaskRecord> {
    const next: TaskRecord = {
      ...task,
      ...changes,
      version: task.version + 1,
      updated_at: now.toISOString(),
    };
    const update = new UpdateBuilder();
    expectStatusAndVersion(update, expectedStatus, task.version);
    bumpVersion(update, task, now);
    for (const [attribute, value] of Object.entries(changes)) {
      update.set(attribute, encodeAttribute(TASK_CODECS, attribute, value));
    }
    if (changes.status !== undefined && isTaskPending(expectedStatus) && !isTaskPending(changes.status)) {
      update.remove(update.name(TABLE_KEYS.gsi3.partition)).remove(update.name(TABLE_KEYS.gsi3.sort));
    }
    await conditionalUpdate(
      this.table,
      taskKey(task.id),
      update,
      () => this.get(task.id),
      (current, cause) =>
        new TaskConflict(
          current
            ? `Task ${task.id} was changed by another request (now '${current.status}').`
            : `Task ${task.id} no longer exists.`,
          current,
          cause,
        ),
    );
    return next;
  }
}
