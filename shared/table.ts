/**
 * The single DynamoDB table. Keys are overloaded so one table holds images and tasks and every
 * listing is a Query on an index, never a Scan.
 *
 * | item  | pk             | sk      | gsi1pk (byOwner)     | gsi2pk (byVisibility / byImage) | gsi1sk = gsi2sk      |
 * |-------|----------------|---------|----------------------|---------------------------------|----------------------|
 * | image | `IMAGE#<id>`   | `IMAGE` | `OWNER#<owner>`      | `VIS#<visibility>`              | `<created_at>#<id>`  |
 * | task  | `TASK#<id>`    | `TASK`  | `TASKS`              | `TASKIMAGE#<image_id>`          | `<created_at>#<id>`  |
 * | members of an image | `MEMBERS#<image_id>` | `MEMBERS` | – | – | – |
 * | shared-with entry   | `MEMBERS#<image_id>` | `MEMBER#<project>` | `MEMBER#<project>` | – | `<image created_at>#<image_id>` |
 *
 * An image's members live in one item per image (the authority: statuses, timestamps, and the
 * member quota as `size(members)`), and one entry per member carries the gsi1 keys that list "the
 * images shared with my project" with one Query, in the same order as the image indexes
 * (docs/api.md#members).
 *
 * Tasks share one gsi1 partition, `TASKS`: `GET /v2/tasks` is admin-only and an admin lists every
 * project's tasks (as in Glance), which per-owner partitions could only answer with a Scan. Tasks are
 * created once per import, far below a partition's write limit.
 *
 * Images with an upload in flight also carry `gsi3pk` = `UPLOAD`, `gsi3sk` = `<deadline>#<id>`
 * (sparse index for the upload sweeper); `pending` tasks carry `gsi3pk` = `PENDING_TASK`,
 * `gsi3sk` = `<created_at>#<id>` (for the sweep of tasks whose execution never started).
 * Idempotency records of the S3 trigger live under
 * `pk` = `IDEMPOTENCY#finalise` (shared/uploads/idempotency.ts) and are in no index.
 *
 * | item           | pk                   | sk                        | in an index                              |
 * |----------------|----------------------|---------------------------|------------------------------------------|
 * | history entry  | `IMAGE#<id>`         | `HISTORY#<version, 0-padded>` | none                                 |
 * | project quotas | `PROJECT#<project>`  | `QUOTA`                   | gsi3 `RESERVED` while reservations are pending |
 *
 * An image's history entries share its partition, so one Query pages them in order
 * (docs/lifecycle.md#history); the project item holds the project's usage, limit overrides and
 * pending reservations (docs/quotas.md).
 *
 * Deleted images drop their index keys, so the indexes only hold what a listing can show.
 *
 * The metadata definitions catalog (shared/metadefs/repository.ts, docs/metadefs.md#storage):
 *
 * | item                  | pk                 | sk       | gsi1pk            | gsi1sk   |
 * |-----------------------|--------------------|----------|-------------------|----------|
 * | metadef namespace     | `MDNS#<namespace>` | `MDNS`   | `MDNAMESPACES`    | `<name>` |
 * | metadef resource type | `MDRT#<name>`      | `MDRT`   | `MDRESOURCETYPES` | `<name>` |
 * | catalog seed marker   | `MDCATALOG`        | `SEEDED` | (none)            |          |
 *
 * A namespace item holds everything in the namespace (properties, objects, tags, resource-type
 * associations), so every metadefs write is one conditional write of one item. All namespaces
 * share one gsi1 partition: the catalog is small and admin-written, and a listing needs every
 * namespace the caller may see, sorted by any attribute, which one Query of that partition gives.
 */

export const TABLE_KEYS = {
  partition: 'pk',
  sort: 'sk',
  gsi1: { name: 'gsi1', partition: 'gsi1pk', sort: 'gsi1sk' },
  gsi2: { name: 'gsi2', partition: 'gsi2pk', sort: 'gsi2sk' },
  /**
   * Sparse index of pending uploads (decision D2): only an image waiting for its data carries
   * `gsi3pk` = `UPLOAD` and `gsi3sk` = `<deadline>#<id>`, so the sweeper finds expired uploads with
   * one Query, never a Scan. Keys only: the sweeper re-reads each image before acting.
   */
  gsi3: { name: 'gsi3', partition: 'gsi3pk', sort: 'gsi3sk' },
} as const;

export const imageKey = (id: string) => ({ pk: `IMAGE#${id}`, sk: 'IMAGE' });
/** Sort key of the image item itself (history items share its partition). */
export const IMAGE_SORT_KEY = 'IMAGE';
export const HISTORY_SORT_PREFIX = 'HISTORY#';
/** Digits of a zero-padded version: every safe integer fits, so string order is version order. */
const VERSION_DIGITS = 16;
export const historySortKey = (version: number) =>
  `${HISTORY_SORT_PREFIX}${String(version).padStart(VERSION_DIGITS, '0')}`;
export const historyKey = (imageId: string, version: number) => ({
  pk: `IMAGE#${imageId}`,
  sk: historySortKey(version),
});
/** The project's usage, limit overrides and pending reservations (docs/quotas.md). */
export const projectQuotaKey = (project: string) => ({ pk: `PROJECT#${project}`, sk: 'QUOTA' });
export const projectOfQuotaKey = (pk: string) => pk.replace(/^PROJECT#/, '');
export const taskKey = (id: string) => ({ pk: `TASK#${id}`, sk: 'TASK' });
export const ownerIndexKey = (owner: string) => `OWNER#${owner}`;
export const visibilityIndexKey = (visibility: string) => `VIS#${visibility}`;
/** The gsi1 partition holding every task (the `GET /v2/tasks` listing). */
export const ALL_TASKS_INDEX_KEY = 'TASKS';
/** An image's members (docs/api.md#members): the one item that holds them, and each member's index entry. */
export const membersKey = (imageId: string) => ({ pk: `MEMBERS#${imageId}`, sk: 'MEMBERS' });
export const memberEntryKey = (imageId: string, memberId: string) => ({
  pk: `MEMBERS#${imageId}`,
  sk: `MEMBER#${memberId}`,
});
/** The gsi1 partition of the images shared with a project (its member entries). */
export const sharedWithIndexKey = (memberId: string) => `MEMBER#${memberId}`;
export const taskImageIndexKey = (imageId: string) => `TASKIMAGE#${imageId}`;
/** Index sort key: creation order with the id as tie-breaker, Glance's default list order. */
export const createdSortKey = (createdAt: string, id: string) => `${createdAt}#${id}`;
/** The table's TTL attribute (epoch seconds): items carrying it are removed by DynamoDB after that time. */
export const TTL_ATTRIBUTE = 'ttl';
/** gsi3 partition of images with an upload in flight. */
export const PENDING_UPLOAD_PARTITION = 'UPLOAD';
/** gsi3 partition of `pending_delete` images waiting for the scrubber (sort key: when deleted). */
export const PENDING_SCRUB_PARTITION = 'SCRUB';
/**
 * gsi3 partition of `pending` tasks (sort key: when created): a task leaves it when its execution
 * takes it, so the sweeper finds tasks whose execution never started (docs/import-workflow.md#imports-that-never-started).
 */
export const PENDING_TASK_PARTITION = 'PENDING_TASK';
/**
 * gsi3 partition of project items with pending quota reservations (sort key: no later than the
 * oldest pending reservation), which the sweeper resolves once they are stale (docs/quotas.md#crashes).
 */
export const PENDING_RESERVATION_PARTITION = 'RESERVED';
/** gsi3 sort key: a time (the upload deadline, or the delete time; ISO, sorts as time) with the id as tie-breaker. */
export const uploadDeadlineSortKey = (deadline: string, id: string) => `${deadline}#${id}`;

/** The metadata definitions catalog (see the table above). */
export const metadefNamespaceKey = (namespace: string) => ({ pk: `MDNS#${namespace}`, sk: 'MDNS' });
export const metadefResourceTypeKey = (name: string) => ({ pk: `MDRT#${name}`, sk: 'MDRT' });
export const METADEF_CATALOG_MARKER_KEY = { pk: 'MDCATALOG', sk: 'SEEDED' } as const;
/** gsi1 partitions listing every namespace and every resource type, sorted by name. */
export const METADEF_NAMESPACES_PARTITION = 'MDNAMESPACES';
export const METADEF_RESOURCE_TYPES_PARTITION = 'MDRESOURCETYPES';
