/**
 * The per-project usage item (docs/quotas.md): `PROJECT#<project>` / `QUOTA` holds the project's
 * usage (bytes and images per quota name), its limit overrides (`limit_<name>`, set by the
 * operator command) and the reservations still pending (`pending`, a map from token to
 * `[size, stage, count, uploading, at (epoch ms)]`, the signed difference the write makes).
 *
 * A write of an image that changes what it holds runs, around its own conditional update:
 *
 *   reserve (this item: the increases added and limits checked in the same conditional update,
 *            so concurrent reservations can never together pass a limit; pending[token] recorded)
 *   → the image write (records `held` with the token)
 *   → settle (the decreases applied, pending[token] removed), or release when the image write
 *     lost (the increases taken back, pending[token] removed).
 *
 * Decreases wait for the image write: room is never handed out before the image gave it up, so
 * the usage item is never below what the images hold and never above a limit. A crash between
 * the steps leaves the token pending; the next write of the image or the sweeper settles or
 * releases it from what the image records (shared/quotas/reconcile.ts), so usage never drifts.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { duePage, type Table } from '#shared/dynamo';
import { Conflict } from '#shared/errors';
import { logger } from '#shared/logger';
import { PENDING_RESERVATION_PARTITION, projectOfQuotaKey, projectQuotaKey, TABLE_KEYS } from '#shared/table';
import type { ProjectDelta, UsageChange } from './change.ts';
import {
  type Limit,
  type Limits,
  limitInCounted,
  NO_USAGE,
  QUOTA_NAMES,
  QuotaExceeded,
  type QuotaName,
  type Usage,
  usageOf,
} from './usage.ts';

/** Reservations that need room may be pending at once on one project (bounds the item's size). */
export const MAX_PENDING_RESERVATIONS = 1000;
/** Releases are never refused for a limit, and get twice the room. */
const MAX_PENDING_RELEASES = 2 * MAX_PENDING_RESERVATIONS;
/** Runs of a reservation when the limit it was checked against changed meanwhile. */
const RESERVE_ATTEMPTS = 4;

/** The stored attribute of a limit override. */
export const limitAttribute = (name: QuotaName) => `limit_${name}`;

/** One pending reservation as stored: the delta in `QUOTA_NAMES` order, then the time. */
type PendingEntry = readonly [number, number, number, number, number];

export interface PendingReservation {
  readonly token: string;
  readonly delta: Usage;
  /** Epoch milliseconds. */
  readonly at: number;
}

/** A project's quota item as read. */
export interface ProjectQuota {
  readonly project: string;
  readonly exists: boolean;
  readonly usage: Usage;
  /** Per-project limit overrides (absent: the deployment default). */
  readonly overrides: Partial<Record<QuotaName, number>>;
  readonly pending: readonly PendingReservation[];
}

const entryOf = (delta: Usage, at: number): PendingEntry => [
  delta.image_size_total,
  delta.image_stage_total,
  delta.image_count_total,
  delta.image_count_uploading,
  at,
];

const reservationOf = (token: string, entry: PendingEntry): PendingReservation => ({
  token,
  delta: Object.fromEntries(QUOTA_NAMES.map((name, index) => [name, Number(entry[index] ?? 0)])) as Usage,
  at: Number(entry[4] ?? 0),
});

// Condition fragments. Placeholders: #pending, #token, #previous, #use<i>, #limit<i>, :max<i>, :limit<i>.

/** Invariant: a reservation is recorded once; a token names one write. */
const NEW_RESERVATION = 'attribute_not_exists(#pending.#token)';
/** Invariant: the item never holds more pending reservations than it has room for. */
const ROOM_FOR_PENDING = 'size(#pending) < :maxPending';
/** Invariant: a pending reservation is settled or released at most once. */
const STILL_PENDING = 'attribute_exists(#pending.#token)';
/** Invariant: an image moves past a token only once that token is settled (the sweeper relies on it). */
const PREVIOUS_SETTLED = 'attribute_not_exists(#pending.#previous)';
/** Invariant: the limit in force is the one the reservation was checked against (an override, or none). */
const limitAsSeen = (i: number, override: number | undefined) =>
  override === undefined ? `attribute_not_exists(#limit${i})` : `#limit${i} = :limit${i}`;
/**
 * Invariant: the usage plus this reservation stays within the limit (`:max` = limit - increase). A
 * usage never counted yet is 0, so it passes only when the increase alone fits (`:max` ≥ 0).
 */
const withinLimit = (i: number, fitsAlone: boolean) =>
  fitsAlone ? `(attribute_not_exists(#use${i}) OR #use${i} <= :max${i})` : `#use${i} <= :max${i}`;

const isMissingPath = (error: unknown) =>
  (error as Error)?.name === 'ValidationException' && /document path/i.test((error as Error).message);

export class UsageLedger {
  /** Limit overrides last seen per project: a guess, checked by every reservation's condition. */
  private readonly seen = new Map<string, ProjectQuota>();

  private readonly readDefaults: () => Limits;

  constructor(
    private readonly table: Table,
    /**
     * The deployment's limits (`GLANCE_QUOTA_*`, shared/config.ts), or how to read them: read only
     * when a limit is checked, so a write that needs no room never parses them.
     */
    defaults: Limits | (() => Limits),
    private readonly now: () => Date = () => new Date(),
  ) {
    this.readDefaults = typeof defaults === 'function' ? defaults : () => defaults;
  }

  /** The deployment's limits. */
  get defaults(): Limits {
    return this.readDefaults();
  }

  /** The project's item as stored now (a consistent read). */
  async read(project: string): Promise<ProjectQuota> {
    const { Item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: projectQuotaKey(project),
        ConsistentRead: true,
      }),
    );
    const overrides: Partial<Record<QuotaName, number>> = {};
    for (const name of QUOTA_NAMES) {
      const value = Item?.[limitAttribute(name)];
      if (typeof value === 'number') overrides[name] = value;
    }
    const pending = Object.entries((Item?.pending ?? {}) as Record<string, PendingEntry>).map(
      ([token, entry]) => reservationOf(token, entry),
    );
    const quota: ProjectQuota = {
      project,
      exists: Item !== undefined,
      usage: usageOf(Item),
      overrides,
      pending,
    };
    this.seen.set(project, quota);
    return quota;
  }

  /** The limits in force for a project: its overrides, else the deployment's. */
  limitsOf(quota: Pick<ProjectQuota, 'overrides'>): Limits {
    return Object.fromEntries(
      QUOTA_NAMES.map((name) => [name, quota.overrides[name] ?? this.defaults[name]]),
    ) as unknown as Limits;
  }

  /**
   * Bytes (or images) of `name` the project may still take, counting `own` (what the asking image
   * already holds) as available to it; `Infinity` when unlimited. For early stops only (a read
   * that can pass the limit stops reading); the reservation itself is what holds.
   */
  async room(project: string | null, name: QuotaName, own = 0): Promise<number> {
    if (project === null) return Number.POSITIVE_INFINITY;
    const quota = await this.read(project);
    const limit = limitInCounted(name, this.limitsOf(quota)[name]);
    return limit === null ? Number.POSITIVE_INFINITY : Math.max(0, limit - quota.usage[name] + own);
  }

  /**
   * `QuotaExceeded` (413) when the project has no room now for `needs` (a check before work
   * starts, as Glance makes at `POST /import`; the reservation made later is what holds).
   */
  async requireRoom(project: string | null, needs: Partial<Usage>): Promise<void> {
    if (project === null) return;
    this.refuseIfOver(await this.read(project), { ...NO_USAGE, ...needs });
  }

  /**
   * Reserves every delta of `change` (its increases counted at once, checked against the limits),
   * the gaining project first; throws `QuotaExceeded` (413) when a limit would be passed, having
   * reserved nothing. The change it supersedes is settled first wherever it may still be pending.
   */
  async reserve(change: UsageChange): Promise<void> {
    const touched = new Set(change.deltas.map((entry) => entry.project));
    if (change.previous) {
      for (const project of change.previous.projects) {
        if (!touched.has(project)) await this.settlePending(project, change.previous.token);
      }
    }
    const done: ProjectDelta[] = [];
    try {
      for (const entry of change.deltas) {
        const previous = change.previous?.projects.includes(entry.project)
          ? change.previous.token
          : undefined;
        await this.reserveOn(entry, change.token, previous);
        done.push(entry);
      }
    } catch (error) {
      for (const entry of done) {
        await this.releaseOn(entry.project, change.token, entry.delta).catch((cause: unknown) =>
          logger.error('could not release a reservation (the sweeper will)', { error: cause as Error }),
        );
      }
      throw error;
    }
  }

  /** The image write landed: the decreases are applied and the entries removed. Idempotent. */
  async settle(change: UsageChange): Promise<void> {
    for (const { project, delta } of change.deltas) await this.settleOn(project, change.token, delta);
  }

  /** The image write lost: the increases are taken back and the entries removed. Idempotent. */
  async release(change: UsageChange): Promise<void> {
    for (const { project, delta } of change.deltas) await this.releaseOn(project, change.token, delta);
  }

  /** Settles `token` on the project with the delta its entry records, if it is still pending. */
  async settlePending(project: string, token: string): Promise<boolean> {
    const entry = (await this.read(project)).pending.find((pending) => pending.token === token);
    return entry ? this.settleOn(project, token, entry.delta) : false;
  }

  /** Applies the decreases of `delta` if `token` is still pending; false when it was not. */
  settleOn(project: string, token: string, delta: Usage): Promise<boolean> {
    return this.resolve(project, token, delta, (amount) => Math.min(0, amount));
  }

  /** Takes the increases of `delta` back if `token` is still pending; false when it was not. */
  releaseOn(project: string, token: string, delta: Usage): Promise<boolean> {
    return this.resolve(project, token, delta, (amount) => -Math.max(0, amount));
  }

  /** Adds `part(amount)` of each quota and removes the entry, conditionally on the entry being there. */
  private async resolve(
    project: string,
    token: string,
    delta: Usage,
    part: (amount: number) => number,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#pending': 'pending', '#token': token };
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    QUOTA_NAMES.forEach((name, i) => {
      const amount = part(delta[name]);
      if (amount === 0) return;
      values[':zero'] = 0;
      values[`:d${i}`] = amount;
      names[`#use${i}`] = name;
      sets.push(`#use${i} = if_not_exists(#use${i}, :zero) + :d${i}`);
    });
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: projectQuotaKey(project),
          UpdateExpression: `${sets.length ? `SET ${sets.join(', ')} ` : ''}REMOVE #pending.#token`,
          ConditionExpression: STILL_PENDING,
          ExpressionAttributeNames: names,
          ...(sets.length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || isMissingPath(error)) return false;
      throw error;
    }
  }

  private async reserveOn(entry: ProjectDelta, token: string, previous: string | undefined): Promise<void> {
    const { project, delta } = entry;
    const gains = QUOTA_NAMES.some((name) => delta[name] > 0);
    for (let attempt = 1; ; attempt++) {
      const known = this.seen.get(project) ?? {
        project,
        exists: true,
        usage: NO_USAGE,
        overrides: {},
        pending: [],
      };
      if (!known.exists) await this.createItem(project);
      const limits = this.limitsOf(known);
      const names: Record<string, string> = {
        '#pending': 'pending',
        '#token': token,
        '#duePk': TABLE_KEYS.gsi3.partition,
        '#dueSk': TABLE_KEYS.gsi3.sort,
      };
      const now = this.now();
      const values: Record<string, unknown> = {
        ':entry': entryOf(delta, now.getTime()),
        ':zero': 0,
        ':maxPending': gains ? MAX_PENDING_RESERVATIONS : MAX_PENDING_RELEASES,
        ':due': PENDING_RESERVATION_PARTITION,
        ':dueAt': `${now.toISOString()}#${project}`,
      };
      const sets = ['#pending.#token = :entry', '#duePk = :due', '#dueSk = if_not_exists(#dueSk, :dueAt)'];
      const conditions = [NEW_RESERVATION, ROOM_FOR_PENDING];
      QUOTA_NAMES.forEach((name, i) => {
        // Decreases wait for the image write (settle): the room is not free before.
        if (delta[name] <= 0) return;
        names[`#use${i}`] = name;
        values[`:d${i}`] = delta[name];
        sets.push(`#use${i} = if_not_exists(#use${i}, :zero) + :d${i}`);
        names[`#limit${i}`] = limitAttribute(name);
        const override = known.overrides[name];
        if (override !== undefined) values[`:limit${i}`] = override;
        conditions.push(limitAsSeen(i, override));
        const limit = limitInCounted(name, limits[name]);
        if (limit !== null) {
          values[`:max${i}`] = limit - delta[name];
          conditions.push(withinLimit(i, delta[name] <= limit));
        }
      });
      if (previous) {
        names['#previous'] = previous;
        conditions.push(PREVIOUS_SETTLED);
      }
      if (!gains) delete values[':zero'];
      try {
        await this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: projectQuotaKey(project),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return;
      } catch (error) {
        if (isMissingPath(error)) {
          await this.createItem(project);
          continue;
        }
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // Refused: the superseded change is not settled yet (its writer stopped before settling),
      // over a limit, too many pending, or the limit changed since it was seen.
      const fresh = await this.read(project);
      const unsettled = previous ? fresh.pending.find((pending) => pending.token === previous) : undefined;
      if (unsettled) {
        await this.settleOn(project, unsettled.token, unsettled.delta);
        continue;
      }
      this.refuseIfOver(fresh, delta);
      if (fresh.pending.length >= (gains ? MAX_PENDING_RESERVATIONS : MAX_PENDING_RELEASES)) {
        throw new Conflict(`Too many changes to project ${project}'s usage at once; try again.`);
      }
      if (attempt >= RESERVE_ATTEMPTS) {
        throw new Conflict(`The quotas of project ${project} kept changing; try again.`);
      }
    }
  }

  /** `QuotaExceeded` for the first quota that `delta` would take past its limit. */
  private refuseIfOver(quota: ProjectQuota, delta: Usage): void {
    const limits = this.limitsOf(quota);
    for (const name of QUOTA_NAMES) {
      const limit: Limit = limits[name];
      const counted = limitInCounted(name, limit);
      if (delta[name] > 0 && counted !== null && quota.usage[name] + delta[name] > counted) {
        throw new QuotaExceeded(quota.project, name, limit as number, quota.usage[name], delta[name]);
      }
    }
  }

  /** Creates the project's item if it does not exist (its `pending` map must exist to be written into). */
  private async createItem(project: string): Promise<void> {
    try {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...projectQuotaKey(project), pending: {} },
          // Invariant: the item is created once; usage already counted is never reset.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const known = this.seen.get(project);
    if (known) this.seen.set(project, { ...known, exists: true });
  }

  // -------------------------------------------------------------------------------------------
  // The operator's limits (bin/quota.ts)

  /** Sets (a number) or removes (null) a project's limit override. */
  async setLimit(project: string, name: QuotaName, value: number | null): Promise<void> {
    await this.createItem(project);
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: projectQuotaKey(project),
        UpdateExpression: value === null ? 'REMOVE #limit' : 'SET #limit = :limit',
        ExpressionAttributeNames: { '#limit': limitAttribute(name) },
        ...(value === null ? {} : { ExpressionAttributeValues: { ':limit': value } }),
      }),
    );
    this.seen.delete(project);
  }

  // -------------------------------------------------------------------------------------------
  // The sweeper's side (shared/quotas/reconcile.ts)

  /** One page of projects whose oldest pending reservation may be older than `before` (gsi3). */
  async dueProjects(input: {
    before: Date;
    limit: number;
    startKey?: Record<string, unknown>;
  }): Promise<{ projects: string[]; lastKey?: Record<string, unknown> }> {
    const { keys, lastKey } = await duePage(this.table, PENDING_RESERVATION_PARTITION, {
      ...input,
      before: input.before.toISOString(),
    });
    return { projects: keys.map(projectOfQuotaKey), ...(lastKey ? { lastKey } : {}) };
  }

  /**
   * Keeps the project in the due index exactly while it has pending reservations, sorted no later
   * than the oldest one.
   */
  async tidyDue(project: string): Promise<void> {
    const quota = await this.read(project);
    const oldest = quota.pending.reduce((min, entry) => Math.min(min, entry.at), Number.POSITIVE_INFINITY);
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: projectQuotaKey(project),
          ...(quota.pending.length === 0
            ? {
                UpdateExpression: 'REMOVE #duePk, #dueSk',
                // Invariant: a project with pending reservations stays in the due index.
                ConditionExpression: 'size(#pending) = :none',
                ExpressionAttributeValues: { ':none': 0 },
              }
            : {
                // A reservation added meanwhile is newer than the oldest one still pending.
                UpdateExpression: 'SET #dueSk = :at',
                ExpressionAttributeValues: { ':at': `${new Date(oldest).toISOString()}#${project}` },
              }),
          ExpressionAttributeNames: {
            '#dueSk': TABLE_KEYS.gsi3.sort,
            ...(quota.pending.length === 0
              ? { '#duePk': TABLE_KEYS.gsi3.partition, '#pending': 'pending' }
              : {}),
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
