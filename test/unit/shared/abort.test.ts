import { describe, expect, it } from 'vitest';
import { untilAborted } from '#shared/abort';

describe('untilAborted', () => {
  it('gives the value, or the error, of the promise when the signal stays quiet', async () => {
    const controller = new AbortController();
    await expect(untilAborted(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error('no')), controller.signal)).rejects.toThrow('no');
  });

  it('rejects with the signal reason on abort, at once when already aborted', async () => {
    const controller = new AbortController();
    const waiting = untilAborted(new Promise(() => {}), controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await expect(untilAborted(Promise.resolve(1), controller.signal)).rejects.toThrow('stop');
  });

  it('leaves no listener on the signal once the wait is over', async () => {
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    for (let i = 0; i < 100; i++) await untilAborted(Promise.resolve(i), controller.signal);
    await untilAborted(Promise.reject(new Error('x')), controller.signal).catch(() => {});
    expect(listeners).toBe(0);
  });
});
