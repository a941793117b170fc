/** Loading an image the way every image endpoint needs it, with Glance's 404 masking. */
import type { Caller } from '#shared/auth';
import { NotFound } from '#shared/errors';
import { canSeeImage } from '#shared/policy';
import { isGone } from '#shared/status-rules';
import type { ImageRecord } from './model.ts';
import type { ImageRepository } from './repository.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => UUID.test(value);

/**
 * The image the caller may see, or 404: unknown, malformed, deleted, pending_delete and
 * invisible ids all answer the same, so existence is never revealed.
 */
export const loadVisibleImage = async (
  repository: ImageRepository,
  caller: Caller,
  id: string,
): Promise<ImageRecord> => {
  const image = isUuid(id) ? await repository.get(id.toLowerCase()) : undefined;
  if (!image || isGone(image.status) || !canSeeImage(caller, image)) {
    throw new NotFound(`No image found with ID ${id}`);
  }
  return image;
};

/** The actor recorded in history for a user request. */
export const actorOf = (caller: Caller): string => `user:${caller.userId}@project:${caller.projectId}`;
