import { importStep } from '#shared/import/step-handler';
import { complete } from '#shared/import/steps';
import { importStepDeps } from '#shared/runtime';

/** Import workflow state `Complete`: Complete → task success. */
export const handler = importStep('Complete', importStepDeps, complete);
