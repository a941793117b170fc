import { imageIdOfTask, stepDeps } from '#shared/import/services';
import { importStep } from '#shared/import/step-handler';
import { verify } from '#shared/import/steps';

/** Import workflow state `Verify`: Verify → size, md5, sha512 in one streaming pass. */
export const handler = importStep(
  'Verify',
  (state, execution) => verify(stepDeps, state, execution),
  imageIdOfTask,
);
