import { imageIdOfTask, stepDeps } from '#shared/import/services';
import { importStep } from '#shared/import/step-handler';
import { fetch } from '#shared/import/steps';

/** Import workflow state `Fetch`: Fetch → staged data (web-download streams the URL into staging). */
export const handler = importStep(
  'Fetch',
  (state, execution) => fetch(stepDeps, state, execution),
  imageIdOfTask,
);
