/**
 * StartExecution started the workflow but its answer was lost (docs/import-workflow.md#import-lock):
 * the API fails the task and answers 500, yet the execution runs on. The image it took must not
 * stay `importing`: the API leaves such an image its lock, and the execution's failure branch
 * gives the image back with it.
 */
import { expect, it } from 'vitest';
import type { Caller } from '#shared/auth';
import { lockHolder } from '#shared/import/lock';
import { requestImport } from '#shared/import/start-import';
import { importApiDeps } from '#shared/runtime';
import { createImage, randomBytesOf, stageDirect, useImportStack } from './helpers.ts';

const { stack } = useImportStack({ routes: {} });

const OWNER: Caller = { userId: 'u-own', projectId: 'p-own', roles: ['member', 'reader'], isAdmin: false };

const until = async (done: () => Promise<boolean>, what: string) => {
  for (let i = 0; i < 400; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

it('never leaves the image importing when the workflow started but StartExecution answered with an error', async () => {
  const image = await createImage(stack);
  await stageDirect(stack, image.id, randomBytesOf(4096));
  const deps = importApiDeps();
  const lost = {
    async start(taskId: string) {
      await deps.executions.start(taskId);
      // The workflow takes the image before the API hears back.
      await until(async () => (await stack.images.get(image.id))?.status === 'importing', 'Mark');
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    },
  };
  await expect(
    requestImport({ ...deps, executions: lost }, OWNER, image.id, { method: { name: 'glance-direct' } }),
  ).rejects.toMatchObject({ status: 500 });

  await stack.stepFunctions.idle();
  // The failure branch decides as for any failed import (docs/import-workflow.md#failure-branch):
  // here the data step that found its task failed kills the image, with why.
  const after = await stack.images.get(image.id);
  expect(after).toMatchObject({ status: 'killed' });
  expect(after && lockHolder(after)).toBeUndefined();
  const [task] = (await stack.tasks.queryAll({ descending: true, limit: 10 })).tasks.filter(
    (candidate) => candidate.image_id === image.id,
  );
  expect(task).toMatchObject({ status: 'failure', message: expect.stringContaining('could not be started') });
});
