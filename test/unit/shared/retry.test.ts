import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Conflict, RecordConflict } from '#shared/errors';
import { ImageConflict } from '#shared/images/repository';
import { NamespaceChanged } from '#shared/metadefs/repository';
import {
  CONFLICT_ATTEMPTS,
  CONFLICT_PAUSE_BASE_MS,
  CONFLICT_PAUSE_CAP_MS,
  conflictPauseMs,
  retryOnConflict,
} from '#shared/retry';
import { TaskConflict } from '#shared/tasks/repository';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('retryOnConflict', () => {
  it('runs again after a lost conditional write, handing over the conflict with the fresh record', async () => {
    const seen: unknown[] = [];
    const result = await retryOnConflict<string, RecordConflict<number>>(async (previous, attempt) => {
      seen.push(previous?.current);
      if (attempt < 3) throw new RecordConflict(`lost ${attempt}`, attempt * 10);
      return 'written';
    });
    expect(result).toBe('written');
    expect(seen).toEqual([undefined, 10, 20]);
  });

  it.each([
    ['image', () => new ImageConflict('image changed', undefined)],
    ['task', () => new TaskConflict('task changed', undefined)],
    ['metadefs namespace', () => new NamespaceChanged('OS::Test')],
  ])('gives up after %s conflicts in every allowed run, throwing the last one', async (_, conflict) => {
    let runs = 0;
    const last = conflict();
    await expect(
      retryOnConflict(async () => {
        runs++;
        throw runs === CONFLICT_ATTEMPTS ? last : conflict();
      }),
    ).rejects.toBe(last);
    expect(runs).toBe(CONFLICT_ATTEMPTS);
  });

  it('throws anything but a record conflict at once, a plain 409 included', async () => {
    for (const error of [new Conflict('not a lost write'), new Error('boom')]) {
      let runs = 0;
      await expect(
        retryOnConflict(async () => {
          runs++;
          throw error;
        }),
      ).rejects.toBe(error);
      expect(runs).toBe(1);
    }
  });

  it('allows more runs when the caller asks for them, and no more', async () => {
    let runs = 0;
    const last = new RecordConflict('lost', undefined);
    await expect(
      retryOnConflict(
        async () => {
          runs++;
          throw runs === 8 ? last : new RecordConflict('lost', undefined);
        },
        { attempts: 8 },
      ),
    ).rejects.toBe(last);
    expect(runs).toBe(8);
  });

  it('pauses before running again, and not before the first run', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    let runs = 0;
    const done = retryOnConflict(async (_, attempt) => {
      runs++;
      if (attempt < 3) throw new RecordConflict('lost', undefined);
      return attempt;
    });
    // Half of each bound: 5 ms after the first run, 10 ms after the second.
    const half = CONFLICT_PAUSE_BASE_MS / 2;
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(half - 1);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    await vi.advanceTimersByTimeAsync(2 * half - 1);
    expect(runs).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    await expect(done).resolves.toBe(3);
  });

  it('does not pause after an error it does not retry', async () => {
    vi.useFakeTimers();
    const failed = retryOnConflict(async () => {
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('conflictPauseMs', () => {
  it('is a random pause below a bound that doubles with every run, up to the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const bound = Math.min(CONFLICT_PAUSE_CAP_MS, CONFLICT_PAUSE_BASE_MS * 2 ** (attempt - 1));
          const pause = conflictPauseMs(attempt, () => r);
          expect(pause).toBeGreaterThanOrEqual(0);
          expect(pause).toBeLessThan(bound);
          expect(pause).toBeCloseTo(r * bound);
        },
      ),
    );
  });

  it('keeps the default five runs under 150 ms of pauses in all', () => {
    const longest = Array.from({ length: CONFLICT_ATTEMPTS - 1 }, (_, i) => conflictPauseMs(i + 1, () => 1));
    expect(longest).toEqual([10, 20, 40, 80]);
  });
});
