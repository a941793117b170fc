import { imageIdOfTask, stepDeps } from '#shared/import/services';
import { importStep } from '#shared/import/step-handler';
import { activate } from '#shared/import/steps';

/** Import workflow state `Activate`: Activate → image active with its data fields, lock dropped. */
export const handler = importStep(
  'Activate',
  (state, execution) => activate(stepDeps, state, execution),
  imageIdOfTask,
);
