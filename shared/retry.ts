/**
 * The one retry-on-conflict policy. Every write is conditional on the status and version it was
 * decided on; when a concurrent writer got there first, the write throws a `RecordConflict`
 * (`ImageConflict`, `TaskConflict`) carrying the record as it is now. The policy:
 *
 * - what is retried: a `RecordConflict`, and nothing else (any other error is thrown at once);
 * - how: the whole read-decide-write is run again on the fresh record (`run` gets the conflict,
 *   whose `current` it may use instead of reading again), so every check (visibility, policy,
 *   status rules) is made again, as if the requests had come one after the other;
 * - when: at once, without a pause (the competing write has already landed);
 * - how often: at most `CONFLICT_ATTEMPTS` runs in all; the last conflict is thrown (a 409 on the
 *   API, a `TransientError` in the import steps, which Step Functions retries later).
 */
import { RecordConflict } from '#shared/errors';

/** Runs of one read-decide-write, the first included. */
export const CONFLICT_ATTEMPTS = 5;

/**
 * Runs `run` until it does not lose a conditional write, at most `CONFLICT_ATTEMPTS` times. `run`
 * receives the conflict of the previous run (undefined on the first).
 */
export const retryOnConflict = async <R, C extends RecordConflict = RecordConflict>(
  run: (previous: C | undefined, attempt: number) => Promise<R>,
): Promise<R> => {
  let previous: C | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(previous, attempt);
    } catch (error) {
      if (!(error instanceof RecordConflict) || attempt >= CONFLICT_ATTEMPTS) throw error;
      previous = error as C;
    }
  }
};
