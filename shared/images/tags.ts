/** Tag rules (docs/api.md#tags): a set of strings ≤255 characters, at most 128 per image. */
import { BadRequest, NotFound, PayloadTooLarge } from '#shared/errors';
import { type ImageRecord, LIMITS } from './model.ts';

export const checkTag = (tag: string): void => {
  if (tag.length === 0 || tag.length > LIMITS.tagLength) {
    throw new BadRequest(`Tag must be between 1 and ${LIMITS.tagLength} characters long.`);
  }
};

/** Collapses duplicates and enforces the tag quota. */
export const normaliseTags = (tags: readonly string[]): string[] => {
  tags.forEach(checkTag);
  const unique = [...new Set(tags)];
  if (unique.length > LIMITS.tagQuota) {
    throw new PayloadTooLarge(
      `Maximum number of tags exceeded: ${unique.length} of ${LIMITS.tagQuota} allowed.`,
    );
  }
  return unique;
};

/** The change adding a tag, or undefined when the image already has it. */
export const addTag = (image: ImageRecord, tag: string): { tags: string[] } | undefined => {
  checkTag(tag);
  if (image.tags.includes(tag)) return undefined;
  return { tags: normaliseTags([...image.tags, tag]) };
};

export const removeTag = (image: ImageRecord, tag: string): { tags: string[] } => {
  if (!image.tags.includes(tag)) throw new NotFound(`Tag ${tag} not found on image ${image.id}.`);
  return { tags: image.tags.filter((existing) => existing !== tag) };
};
