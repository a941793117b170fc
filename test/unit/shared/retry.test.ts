import { describe, expect, it } from 'vitest';
import { Conflict, RecordConflict } from '#shared/errors';
import { ImageConflict } from '#shared/images/repository';
import { CONFLICT_ATTEMPTS, retryOnConflict } from '#shared/retry';
import { TaskConflict } from '#shared/tasks/repository';

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
});
