import { describe, expect, it } from 'vitest';
import type { ImageRepository } from '#shared/images/repository';
import type { TaskRecord } from '#shared/tasks/model';
import type { TaskRepository } from '#shared/tasks/repository';
import { countOverdue, OVERDUE_IMPORT_MS, OVERDUE_UPLOAD_MS } from '#shared/uploads/overdue';

const NOW = new Date('2030-01-01T12:00:00.000Z');

/** Repositories answering from lists, with the index order and bounds the real ones use. */
const fakes = (deadlines: string[], tasks: Pick<TaskRecord, 'status' | 'created_at'>[]) => {
  const images = {
    expiredUploads: async ({ before }: { before: string }) => ({
      ids: deadlines.filter((deadline) => deadline < before),
    }),
  } as unknown as ImageRepository;
  const repository = {
    queryAll: async ({ after }: { after?: string }) => ({
      tasks: tasks
        .filter((task) => after === undefined || task.created_at < after)
        .sort((a, b) => (a.created_at < b.created_at ? 1 : -1)),
    }),
  } as unknown as TaskRepository;
  return { images, tasks: repository };
};

const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

describe('countOverdue', () => {
  it('counts uploads an hour past their deadline, not those the sweeper still has time for', async () => {
    const repositories = fakes(
      [ago(OVERDUE_UPLOAD_MS + 1000), ago(OVERDUE_UPLOAD_MS - 1000), ago(60_000)],
      [],
    );
    expect(await countOverdue(repositories, NOW)).toEqual({ uploads: 1, imports: 0 });
  });

  it('counts unfinished tasks older than the execution timeout and an hour, never finished ones', async () => {
    const old = ago(OVERDUE_IMPORT_MS + 1000);
    const repositories = fakes(
      [],
      [
        { status: 'processing', created_at: old },
        { status: 'pending', created_at: old },
        { status: 'success', created_at: old },
        { status: 'failure', created_at: old },
        { status: 'processing', created_at: ago(OVERDUE_IMPORT_MS - 1000) },
      ],
    );
    expect(await countOverdue(repositories, NOW)).toEqual({ uploads: 0, imports: 2 });
  });
});
