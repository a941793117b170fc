import { imageIdOfTask, stepDeps } from '#shared/import/services';
import { workflowStep } from '#shared/import/step-handler';
import { promote } from '#shared/import/steps';

/** Import workflow state `Promote`: Promote → staged object copied to the image key, staging removed. */
export const handler = workflowStep(
  'Promote',
  (state, execution) => promote(stepDeps, state, execution),
  imageIdOfTask,
);
