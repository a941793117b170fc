/**
 * Client operations on one image (PATCH, tags, delete, deactivate, reactivate): read, decide,
 * write conditionally on the version read. A lost race is retried on the fresh record
 * (shared/retry.ts), with every check (visibility, policy, protection, status rules) made again,
 * which is exactly what running the requests one after the other would give; a request that keeps
 * losing answers 409.
 */
import type { Caller } from '#shared/auth';
import type { Membership } from '#shared/members/model';
import { canModifyImage, requireImagePolicy } from '#shared/policy';
import { retryOnConflict } from '#shared/retry';
import { loadImageAccess } from './access.ts';
import type { ImageRecord } from './model.ts';
import type { ImageChanges, ImageRepository } from './repository.ts';

/**
 * Runs `act` on the image as it is now (with the caller's membership, for the policy's masking),
 * again on the fresh record when its write loses a race.
 */
export const withFreshImage = <T>(
  repository: ImageRepository,
  caller: Caller,
  id: string,
  act: (image: ImageRecord, membership: Membership) => Promise<T>,
): Promise<T> =>
  retryOnConflict(async () => {
    const { image, membership } = await loadImageAccess(repository, caller, id);
    return act(image, membership);
  });

/** PATCH and tags: `change` returns the attributes to save, or undefined for no change. */
export const editImage = (
  repository: ImageRepository,
  caller: Caller,
  id: string,
  change: (image: ImageRecord) => ImageChanges | undefined,
): Promise<ImageRecord> =>
  withFreshImage(repository, caller, id, async (image, membership) => {
    requireImagePolicy(caller, image, canModifyImage, 'modify', membership);
    const changes = change(image);
    return changes === undefined ? image : repository.update(image, changes);
  });
