/**
 * Status-changing image operations shared by several entry points: ask the status rules,
 * then write their answer conditionally. A refusal becomes the Glance error the rules chose.
 */
import type { Caller } from '#shared/auth';
import { canModifyImage, requireImagePolicy } from '#shared/policy';
import { decideImage, type ImageDecision, type ImageTrigger, TransitionRefused } from '#shared/status-rules';
import { actorOf } from './access.ts';
import { withFreshImage } from './edit.ts';
import type { ImageRecord } from './model.ts';
import type { ImageRepository, TransitionOptions } from './repository.ts';

/** The status rules' decision on `trigger` for `image`; throws the rules' error when it does not apply. */
export const decideOrRefuse = (image: ImageRecord, trigger: ImageTrigger): ImageDecision => {
  try {
    return decideImage(image, trigger);
  } catch (error) {
    if (error instanceof TransitionRefused) throw error.error;
    throw error;
  }
};

/** Applies a trigger to an image as loaded; throws the rules' error when it does not apply. */
export const applyTrigger = async (
  repository: Pick<ImageRepository, 'transition'>,
  image: ImageRecord,
  trigger: ImageTrigger,
  options: TransitionOptions,
): Promise<ImageRecord> => repository.transition(image, decideOrRefuse(image, trigger), options);

/**
 * Deactivate or reactivate (T16, T17): owner or admin; idempotent; 403 from other statuses. A
 * race with an edit (a tag, a PATCH) is retried on the fresh image, not answered with 409.
 */
export const toggleActivation = (
  repository: ImageRepository,
  caller: Caller,
  id: string,
  trigger: 'deactivate' | 'reactivate',
): Promise<ImageRecord> =>
  withFreshImage(repository, caller, id, (image, membership) => {
    requireImagePolicy(caller, image, canModifyImage, trigger, membership);
    return applyTrigger(repository, image, trigger, { actor: actorOf(caller) });
  });
