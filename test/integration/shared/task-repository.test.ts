import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTaskRecord } from '#shared/import/records';
import { decideTask } from '#shared/status-rules';
import { TaskRepository } from '#shared/tasks/repository';
import { type DynamoFixture, startDynamo } from '#test/helpers/dynamo';
import { deepObject, objectOf, PROTOTYPE_NAMES } from '#test/helpers/hostile';

let db: DynamoFixture;
beforeAll(async () => {
  db = await startDynamo();
});
afterAll(() => db.stop());

describe('TaskRepository on dynalite', () => {
  const tasks = () => new TaskRepository(db.doc, db.emulators.tableName);
  const input = {
    import_from: 'https://example.com/a.img',
    image_properties: objectOf(PROTOTYPE_NAMES.map((name) => [name, name])),
    nested: JSON.parse(deepObject(10)),
  };

  it('round-trips an input with any member names and depth, and a result', async () => {
    const task = newTaskRecord({
      id: randomUUID(),
      type: 'import',
      input,
      owner: 'p',
      imageId: randomUUID(),
      userId: 'u',
      requestId: undefined,
      now: new Date(),
    });
    await tasks().create(task);
    const stored = await tasks().get(task.id);
    expect(JSON.stringify(stored?.input)).toBe(JSON.stringify(input));
    expect(stored?.result).toBeNull();

    const processing = await tasks().transition(task, decideTask(task, 'start'), { timeToLiveHours: 1 });
    await tasks().transition(processing, decideTask(processing, 'succeed'), {
      set: {
        result: objectOf([
          ['image_id', 'x'],
          ['__proto__', 'y'],
        ]),
      },
      timeToLiveHours: 1,
    });
    const done = await tasks().get(task.id);
    expect(Object.entries(done?.result ?? {})).toEqual([
      ['image_id', 'x'],
      ['__proto__', 'y'],
    ]);
    const listed = await tasks().listByImage(task.image_id ?? '');
    expect(JSON.stringify(listed[0]?.input)).toBe(JSON.stringify(input));
  });
});

describe('the pending-task index', () => {
  it('holds a task exactly while it is pending, oldest first', async () => {
    const tasks = new TaskRepository(db.doc, db.emulators.tableName);
    const make = (at: string) =>
      newTaskRecord({
        id: randomUUID(),
        type: 'api_image_import',
        input: {},
        owner: 'p',
        imageId: randomUUID(),
        userId: 'u',
        requestId: undefined,
        now: new Date(at),
      });
    const older = make('2031-01-01T00:00:00.000Z');
    const newer = make('2031-01-01T00:10:00.000Z');
    await tasks.create(newer);
    await tasks.create(older);
    const pending = async (before: string) => (await tasks.pendingSince({ before, limit: 10 })).ids;
    expect(await pending('2031-01-01T00:05:00.000Z')).toEqual([older.id]);
    expect(await pending('2031-01-02T00:00:00.000Z')).toEqual([older.id, newer.id]);
    await tasks.touch(older);
    expect(await pending('2031-01-02T00:00:00.000Z')).toEqual([older.id, newer.id]);
    const touched = await tasks.get(older.id);
    if (!touched) throw new Error('no task');
    await tasks.transition(touched, decideTask(touched, 'start'), { timeToLiveHours: 1 });
    expect(await pending('2031-01-02T00:00:00.000Z')).toEqual([newer.id]);
    await tasks.transition(newer, decideTask(newer, 'fail'), { timeToLiveHours: 1 });
    expect(await pending('2031-01-02T00:00:00.000Z')).toEqual([]);
  });
});
