/**
 * Waiting on a promise that an abort signal may cut short. Racing a promise against one
 * long-lived "aborted" promise with `Promise.race` would keep every value ever raced reachable
 * until that promise settles (each race leaves a reaction on it); this helper leaves nothing
 * behind once the wait is over, so a stream of large chunks is not retained.
 */
export const untilAborted = <T>(promise: Promise<T>, signal: AbortSignal): Promise<T> => {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
};
