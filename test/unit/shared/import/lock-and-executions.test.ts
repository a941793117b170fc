import { ExecutionAlreadyExists, type SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { lockState, withLock, withoutLock } from '#shared/import/lock';
import { newTaskRecord } from '#shared/import/records';
import { executionInput, stepFunctionsExecutions } from '#shared/tasks/executions';
import type { TaskRecord } from '#shared/tasks/model';
import type { TaskRepository } from '#shared/tasks/repository';
import { queuedImage } from '#test/helpers/images';

const NOW = new Date('2026-03-01T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

const repositoryWith = (tasks: TaskRecord[]) =>
  ({ get: async (id: string) => tasks.find((task) => task.id === id) }) as unknown as TaskRepository;
const taskOf = (status: TaskRecord['status'], updatedMinutesAgo: number): TaskRecord => ({
  ...newTaskRecord({
    id: '99999999-2222-4333-8444-555555555555',
    type: 'api_image_import',
    input: {},
    owner: 'p',
    imageId: 'i',
    userId: 'u',
    requestId: undefined,
    now: minutesAgo(updatedMinutesAgo),
  }),
  status,
});

describe('import lock (docs/import-workflow.md#import-lock)', () => {
  it('is free without the property', async () => {
    expect(await lockState(repositoryWith([]), queuedImage(), NOW)).toEqual({ kind: 'free' });
  });

  it.each<[TaskRecord['status'], number, 'live' | 'stale']>([
    ['processing', 59, 'live'],
    ['processing', 60, 'stale'],
    ['pending', 119, 'live'],
    ['pending', 120, 'stale'],
    ['success', 59, 'live'],
    ['failure', 61, 'stale'],
  ])('a %s task updated %i minutes ago holds a %s lock (whatever its status)', async (status, age, kind) => {
    const task = taskOf(status, age);
    const image = queuedImage({ properties: withLock(queuedImage(), task.id) });
    expect((await lockState(repositoryWith([task]), image, NOW)).kind).toBe(kind);
  });

  it('treats a missing task as stale only once the image is 5 minutes old', async () => {
    const locked = (minutes: number) =>
      queuedImage({
        properties: withLock(queuedImage(), 'gone'),
        updated_at: minutesAgo(minutes).toISOString(),
      });
    expect(await lockState(repositoryWith([]), locked(1), NOW)).toMatchObject({
      kind: 'live',
      taskId: 'gone',
    });
    expect(await lockState(repositoryWith([]), locked(5), NOW)).toEqual({
      kind: 'stale',
      taskId: 'gone',
      task: undefined,
    });
  });

  it('is set and dropped on the reserved property, leaving the others', () => {
    const image = queuedImage({ properties: { hw_disk_bus: 'scsi' } });
    expect(withLock(image, 't')).toEqual({ hw_disk_bus: 'scsi', os_glance_import_task: 't' });
    expect(withoutLock({ properties: withLock(image, 't') })).toEqual({ hw_disk_bus: 'scsi' });
  });
});

describe('executions port (Step Functions StartExecution)', () => {
  const client = (behaviour: (input: Record<string, unknown>) => unknown) => {
    const sent: Record<string, unknown>[] = [];
    return {
      sent,
      sfn: {
        send: async (command: { input: Record<string, unknown> }) => {
          sent.push(command.input);
          return behaviour(command.input);
        },
      } as unknown as SFNClient,
    };
  };

  it('starts an execution named after the task with {"task_id"} as input', async () => {
    const { sfn, sent } = client(() => ({}));
    await stepFunctionsExecutions(sfn, 'arn:sm').start('t-1');
    expect(sent).toEqual([{ stateMachineArn: 'arn:sm', name: 't-1', input: executionInput('t-1') }]);
    expect(JSON.parse(executionInput('t-1'))).toEqual({ task_id: 't-1' });
  });

  it('treats ExecutionAlreadyExists as started (a repeated start is harmless)', async () => {
    const { sfn } = client(() => {
      throw new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });
    });
    await expect(stepFunctionsExecutions(sfn, 'arn:sm').start('t-1')).resolves.toBeUndefined();
  });

  it('passes every other error on', async () => {
    const { sfn } = client(() => {
      throw new Error('AccessDenied');
    });
    await expect(stepFunctionsExecutions(sfn, 'arn:sm').start('t-1')).rejects.toThrow('AccessDenied');
  });
});
