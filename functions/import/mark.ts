import { importStep } from '#shared/import/step-handler';
import { mark } from '#shared/import/steps';
import { importStepDeps } from '#shared/runtime';

/** Import workflow state `Mark`: Mark → task processing, image importing. */
export const handler = importStep('Mark', importStepDeps, mark);
