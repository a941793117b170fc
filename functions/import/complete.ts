import { imageIdOfTask, stepDeps } from '#shared/import/services';
import { importStep } from '#shared/import/step-handler';
import { complete } from '#shared/import/steps';

/** Import workflow state `Complete`: Complete → task success. */
export const handler = importStep(
  'Complete',
  (state, execution) => complete(stepDeps, state, execution),
  imageIdOfTask,
);
