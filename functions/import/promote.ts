import { imageIdOfTask, stepDeps } from '#shared/import/services';
import { importStep } from '#shared/import/step-handler';
import { promote } from '#shared/import/steps';

/** Import workflow state `Promote`: Promote → staged object copied to the image key, staging removed. */
export const handler = importStep(
  'Promote',
  (state, execution) => promote(stepDeps, state, execution),
  imageIdOfTask,
);
