/**
 * Client edits (PATCH, tags): read, change in memory, write conditionally on the version read.
 * A lost race is retried on the fresh record a few times, which is exactly what running the
 * requests one after the other would give; a request that keeps losing answers 409.
 */
import type { Caller } from '../auth.ts';
import { canModifyImage, requireImagePolicy } from '../policy.ts';
import { loadVisibleImage } from './access.ts';
import type { ImageRecord } from './model.ts';
import { type ImageChanges, ImageConflict, type ImageRepository } from './repository.ts';

const ATTEMPTS = 4;

export const editImage = async (
  repository: ImageRepository,
  caller: Caller,
  id: string,
  change: (image: ImageRecord) => ImageChanges | undefined,
): Promise<ImageRecord> => {
  for (let attempt = 1; ; attempt++) {
    const image = await loadVisibleImage(repository, caller, id);
    requireImagePolicy(caller, image, canModifyImage, 'modify');
    const changes = change(image);
    if (changes === undefined) return image;
    try {
      return await repository.update(image, changes);
    } catch (error) {
      if (!(error instanceof ImageConflict) || attempt >= ATTEMPTS) throw error;
    }
  }
};
