import { importStep } from '#shared/import/step-handler';
import { failImport } from '#shared/import/steps';
import { importStepDeps } from '#shared/runtime';

/**
 * Import workflow state `FailImport`, the one failure branch every step's Catch leads to: task
 * failure with a message naming the step and cause, image killed with the reason (D4), the
 * import's data removed, lock released. Idempotent.
 */
export const handler = importStep('FailImport', importStepDeps, (deps, state, execution) =>
  failImport(deps, state, { execution }),
);
