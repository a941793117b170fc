/**
 * How an import step's Lambda is built: the state's input in, the step's result out. Errors leave as
 * `TransientError` (retried by the state) or `ImportError` (caught into the failure branch),
 * see errors.ts; the test-only fault hook runs at the step's start and end (faults.ts).
 */
import type { Context } from 'aws-lambda';
import type { TimeBudget } from '#shared/data/verify';
import { logger, withLambdaContext } from '#shared/logger';
import { classify } from './errors.ts';
import { checkFault, faultsEnabled } from './faults.ts';
import type { ImportState, StepDeps, StepInput } from './steps.ts';

/** The image an execution works on, for fault matching and logs, when the state knows it. */
const imageIdOf = (state: ImportState): string | undefined => state?.mark?.image_id;

/** The image of the state's task, for the fault hook of the first step (before `$.mark` exists). */
const imageIdOfTask = async (deps: StepDeps, state: ImportState): Promise<string | undefined> =>
  typeof state?.task_id === 'string'
    ? ((await deps.tasks.get(state.task_id))?.image_id ?? undefined)
    : undefined;

/**
 * The handler of the step `name`: `run` with the function's dependencies (`deps`, the runtime
 * wiring's accessor, called on each invocation), the execution state, the execution's name and
 * the invocation's time (from the Lambda context, for steps that must stop before it runs out).
 */
export const importStep = <R>(
  name: string,
  deps: () => StepDeps,
  run: (
    deps: StepDeps,
    state: ImportState,
    execution: string | undefined,
    budget: TimeBudget | undefined,
  ) => Promise<R>,
) =>
  withLambdaContext(async (input: StepInput, context?: Context): Promise<R> => {
    const state = input?.state as ImportState;
    const execution = input?.execution;
    const budget = context ? { remainingMs: () => context.getRemainingTimeInMillis() } : undefined;
    const started = Date.now();
    const wired = deps();
    // Only the fault hook needs the image before `$.mark` exists; production skips the read.
    const imageId =
      imageIdOf(state) ??
      (faultsEnabled() ? await imageIdOfTask(wired, state).catch(() => undefined) : undefined);
    try {
      await checkFault(name, 'start', imageId);
      const result = await run(wired, state, execution, budget);
      await checkFault(name, 'end', imageId);
      logger.info('workflow step done', {
        step: name,
        taskId: state?.task_id,
        imageId,
        ms: Date.now() - started,
      });
      return result;
    } catch (error) {
      const thrown = classify(error);
      logger.warn('workflow step failed', {
        step: name,
        taskId: state?.task_id,
        imageId,
        errorType: thrown.name,
        error: thrown.message,
      });
      throw thrown;
    }
  });
