/**
 * Client operations on one image (PATCH, tags, delete, deactivate, reactivate): read, decide,
 * write conditionally on the version read. A lost race is retried on the fresh record a few
 * times, with every check (visibility, policy, protection, status rules) made again, which is
 * exactly what running the requests one after the other would give; a request that keeps losing
 * answers 409.
 */
import type { Caller } from '#shared/auth';
import { canModifyImage, requireImagePolicy } from '#shared/policy';
import { loadVisibleImage } from './access.ts';
import type { ImageRecord } from './model.ts';
import { type ImageChanges, ImageConflict, type ImageRepository } from './repository.ts';

const ATTEMPTS = 4;

/** Runs `act` on the image as it is now, again on the fresh record when its write loses a race. */
export const withFreshImage = async <T>(
  repository: ImageRepository,
  caller: Caller,
  id: string,
  act: (image: ImageRecord) => Promise<T>,
): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    const image = await loadVisibleImage(repository, caller, id);
    try {
      return await act(image);
    } catch (error) {
      if (!(error instanceof ImageConflict) || attempt >= ATTEMPTS) throw error;
    }
  }
};

/** PATCH and tags: `change` returns the attributes to save, or undefined for no change. */
export const editImage = (
  repository: ImageRepository,
  caller: Caller,
  id: string,
  change: (image: ImageRecord) => ImageChanges | undefined,
): Promise<ImageRecord> =>
  withFreshImage(repository, caller, id, async (image) => {
    requireImagePolicy(caller, image, canModifyImage, 'modify');
    const changes = change(image);
    return changes === undefined ? image : repository.update(image, changes);
  });
