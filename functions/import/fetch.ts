import { importStep } from '#shared/import/step-handler';
import { fetch } from '#shared/import/steps';
import { importStepDeps } from '#shared/runtime';

/** Import workflow state `Fetch`: Fetch → staged data (web-download streams the URL into staging). */
export const handler = importStep('Fetch', importStepDeps, fetch);
