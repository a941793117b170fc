import { imageIdOfTask, stepDeps } from '#shared/import/services';
import { importStep } from '#shared/import/step-handler';
import { mark } from '#shared/import/steps';

/** Import workflow state `Mark`: Mark → task processing, image importing. */
export const handler = importStep(
  'Mark',
  (state, execution) => mark(stepDeps, state, execution),
  imageIdOfTask,
);
