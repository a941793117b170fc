import { importStep } from '#shared/import/step-handler';
import { promote } from '#shared/import/steps';
import { importStepDeps } from '#shared/runtime';

/** Import workflow state `Promote`: Promote → staged object copied to the image key, staging removed. */
export const handler = importStep('Promote', importStepDeps, promote);
