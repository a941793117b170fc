import { importStep } from '#shared/import/step-handler';
import { activate } from '#shared/import/steps';
import { importStepDeps } from '#shared/runtime';

/** Import workflow state `Activate`: Activate → image active with its data fields, lock dropped. */
export const handler = importStep('Activate', importStepDeps, activate);
