/**
 * Size limits for image data (docs/lifecycle.md#size-cap-and-quota): the size cap, and how much
 * of its owner's quotas an image may still take. The quotas themselves hold through reservations
 * made by the image's own writes (docs/quotas.md); this is for reads that stop as soon as data
 * passes what could ever be accepted. The default cap is what one invocation can verify
 * (docs/uploads.md#how-large-an-image-one-invocation-verifies).
 */
import type { ImageRecord } from '#shared/images/model';
import type { ImageRepository } from '#shared/images/repository';
import type { QuotaName } from '#shared/quotas/usage';
import { RANGED_READ } from '#shared/storage/ranged-read';

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
  /** `image_size_cap`: no image may be larger (default: what one invocation verifies, `defaultSizeCap`). */
  readonly sizeCap: number;
}

/**
 * The most bytes this image may hold: the size cap, lowered to what its owner has left of
 * `quota` (what the image already holds counts as its own).
 */
export const allowedBytes = async (
  repository: ImageRepository,
  limits: DataLimits,
  image: ImageRecord,
  quota: QuotaName = 'image_size_total',
): Promise<number> => Math.min(limits.sizeCap, await repository.roomFor(image, quota));
