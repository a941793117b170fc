/**
 * The one retry-on-conflict policy. Every write is conditional on the status and version it was
 * decided on; when a concurrent writer got there first, the write throws a `RecordConflict`
 * (`ImageConflict`, `TaskConflict`, `NamespaceChanged`) carrying the record as it is now, when the
 * writer has it. The policy:
 *
 * - what is retried: a `RecordConflict`, and nothing else (any other error is thrown at once);
 * - how: the whole read-decide-write is run again on the fresh record (`run` gets the conflict,
 *   whose `current` it may use instead of reading again), so every check (visibility, policy,
 *   status rules) is made again, as if the requests had come one after the other;
 * - when: after a short random pause (`conflictPauseMs`: "full jitter", at most 10 ms before the
 *   second run, doubling up to 200 ms). The competing write has already landed, so the record is
 *   fresh without any pause; the pause only keeps the losers of one race from running again in
 *   step and colliding again, which matters where many writers share one record;
 * - how often: at most `CONFLICT_ATTEMPTS` runs in all, unless the caller allows more (`attempts`)
 *   for a record that many writers share at once (docs/metadefs.md#storage). Each round of a race
 *   has a winner, so with n runs allowed n simultaneous writers all land. The last conflict is
 *   thrown: a 409 on the API, a `TransientError` in the import steps (Step Functions retries later).
 */
import { RecordConflict } from '#shared/errors';

/** Runs of one read-decide-write, the first included, unless the caller allows more. */
export const CONFLICT_ATTEMPTS = 5;

/** The pause before the second run may be up to this long; it doubles with every run after. */
export const CONFLICT_PAUSE_BASE_MS = 10;
/** No single pause is longer. */
export const CONFLICT_PAUSE_CAP_MS = 200;

/**
 * The pause after the `attempt`-th run lost, in milliseconds: uniform in
 * `[0, min(cap, base * 2^(attempt - 1)))` ("full jitter"), `random` giving a value in `[0, 1)`.
 */
export const conflictPauseMs = (attempt: number, random: () => number = Math.random): number =>
  random() * Math.min(CONFLICT_PAUSE_CAP_MS, CONFLICT_PAUSE_BASE_MS * 2 ** (attempt - 1));

export interface ConflictRetryOptions {
  /**
   * Runs in all, the first included (default `CONFLICT_ATTEMPTS`): the number of simultaneous
   * writers to one record that all land.
   */
  readonly attempts?: number;
}

/**
 * Runs `run` until it does not lose a conditional write, at most `attempts` times, pausing briefly
 * between runs. `run` receives the conflict of the previous run (undefined on the first).
 */
export const retryOnConflict = async <R, C extends RecordConflict = RecordConflict>(
  run: (previous: C | undefined, attempt: number) => Promise<R>,
  { attempts = CONFLICT_ATTEMPTS }: ConflictRetryOptions = {},
): Promise<R> => {
  let previous: C | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(previous, attempt);
    } catch (error) {
      if (!(error instanceof RecordConflict) || attempt >= attempts) throw error;
      previous = error as C;
    }
    await new Promise((resolve) => setTimeout(resolve, conflictPauseMs(attempt)));
  }
};
