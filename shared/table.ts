/**
 * The single DynamoDB table. Keys are overloaded so one table holds images and tasks and every
 * listing is a Query on an index, never a Scan.
 *
 * | item  | pk             | sk      | gsi1pk (byOwner)     | gsi2pk (byVisibility / byImage) | gsi1sk = gsi2sk      |
 * |-------|----------------|---------|----------------------|---------------------------------|----------------------|
 * | image | `IMAGE#<id>`   | `IMAGE` | `OWNER#<owner>`      | `VIS#<visibility>`              | `<created_at>#<id>`  |
 * | task  | `TASK#<id>`    | `TASK`  | `TASKOWNER#<owner>`  | `TASKIMAGE#<image_id>`          | `<created_at>#<id>`  |
 *
 * Deleted images drop their index keys, so the indexes only hold what a listing can show.
 */

export const TABLE_KEYS = {
  partition: 'pk',
  sort: 'sk',
  gsi1: { name: 'gsi1', partition: 'gsi1pk', sort: 'gsi1sk' },
  gsi2: { name: 'gsi2', partition: 'gsi2pk', sort: 'gsi2sk' },
} as const;

export const imageKey = (id: string) => ({ pk: `IMAGE#${id}`, sk: 'IMAGE' });
export const taskKey = (id: string) => ({ pk: `TASK#${id}`, sk: 'TASK' });
export const ownerIndexKey = (owner: string) => `OWNER#${owner}`;
export const visibilityIndexKey = (visibility: string) => `VIS#${visibility}`;
export const taskOwnerIndexKey = (owner: string) => `TASKOWNER#${owner}`;
export const taskImageIndexKey = (imageId: string) => `TASKIMAGE#${imageId}`;
/** Index sort key: creation order with the id as tie-breaker, Glance's default list order. */
export const createdSortKey = (createdAt: string, id: string) => `${createdAt}#${id}`;
