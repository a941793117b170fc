/**
 * Size limits for image data (docs/lifecycle.md#size-cap-and-quota): the size cap and the per-project storage quota.
 * Usage is summed over the owner index (images not killed or gone), never a Scan.
 */
import type { ImageRepository } from '#shared/images/repository';
import { countsTowardsQuota } from '#shared/status-rules';
import { ownerIndexKey } from '#shared/table';

export interface DataLimits {
  /** `image_size_cap`: no image may be larger (default 100 GiB). */
  readonly sizeCap: number;
  /** `user_storage_quota` in bytes per project; 0 means unlimited. */
  readonly projectQuota: number;
}

/** Bytes the project's images use: `size` of every listed image that is not killed. */
export const projectUsage = async (
  repository: ImageRepository,
  owner: string,
  excludeImageId?: string,
): Promise<number> => {
  let used = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await repository.queryIndex({
      index: 'gsi1',
      partition: ownerIndexKey(owner),
      descending: false,
      limit: 1000,
      startKey,
    });
    for (const image of page.images) {
      if (image.id !== excludeImageId && countsTowardsQuota(image.status)) used += image.size ?? 0;
    }
    startKey = page.lastKey;
  } while (startKey);
  return used;
};

/**
 * The most bytes this image may hold: the size cap, lowered to the project's remaining quota
 * when a quota is set.
 */
export const allowedBytes = async (
  repository: ImageRepository,
  limits: DataLimits,
  image: { id: string; owner: string | null },
): Promise<number> => {
  if (limits.projectQuota === 0 || image.owner === null) return limits.sizeCap;
  const remaining = limits.projectQuota - (await projectUsage(repository, image.owner, image.id));
  return Math.max(0, Math.min(limits.sizeCap, remaining));
};
