/**
 * Size limits for image data (docs/lifecycle.md#size-cap-and-quota): the size cap and the per-project storage quota.
 * Usage is summed over the owner index (images not killed or gone), never a Scan. The default cap
 * is what one invocation can verify (docs/uploads.md#how-large-an-image-one-invocation-verifies).
 */
import type { ImageRepository } from '#shared/images/repository';
import { countsTowardsQuota } from '#shared/status-rules';
import { RANGED_READ } from '#shared/storage/ranged-read';
import { ownerIndexKey } from '#shared/table';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * The rates the size cap follows from. S3: one GetObject stream from Lambda, the low end of what
 * is seen (tens to about a hundred MB/s), times the ranges a verification keeps in flight. Hashing:
 * the two-thread md5 + sha512 pass on the finaliser's CPUs, about half of what it measures (so a
 * function with a single vCPU still makes it).
 */
export const VERIFY_RATES = {
  s3StreamBytesPerSecond: 50 * MiB,
  streams: RANGED_READ.window,
  hashBytesPerSecond: 128 * MiB,
} as const;

/** What a verification reads per second: the slower of S3 (all streams) and hashing. */
export const DEFAULT_VERIFY_BYTES_PER_SECOND = Math.min(
  VERIFY_RATES.s3StreamBytesPerSecond * VERIFY_RATES.streams,
  VERIFY_RATES.hashBytesPerSecond,
);

/** One invocation: Lambda's 15 minutes, less a minute for starting (HEAD, quota) and the writes after. */
export const VERIFY_INVOCATION_SECONDS = 900;
export const VERIFY_OVERHEAD_SECONDS = 60;

/** The most bytes one invocation verifies at `bytesPerSecond`. */
export const verifiableBytes = (bytesPerSecond: number): number =>
  Math.floor((VERIFY_INVOCATION_SECONDS - VERIFY_OVERHEAD_SECONDS) * bytesPerSecond);

/** The default `IMAGE_SIZE_CAP`: what one invocation verifies, rounded down to whole GiB. */
export const defaultSizeCap = (bytesPerSecond: number): number =>
  Math.floor(verifiableBytes(bytesPerSecond) / GiB) * GiB;

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
