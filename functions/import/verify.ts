import { importStep } from '#shared/import/step-handler';
import { verify } from '#shared/import/steps';
import { importStepDeps } from '#shared/runtime';

/** Import workflow state `Verify`: Verify → size, md5, sha512 in one streaming pass. */
export const handler = importStep('Verify', importStepDeps, verify);
