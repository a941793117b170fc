/**
 * Module-scope dependencies of the workflow functions and of the API functions that start
 * imports, built once per container at cold start (like shared/services.ts).
 */
import { config, images, s3, tasks } from '#shared/services';
import { ObjectStore } from '#shared/storage/object-store';
import type { StepDeps } from './steps.ts';
import { uriFilterFromEnv } from './uri-filter.ts';

export const stepDeps: StepDeps = {
  images,
  tasks,
  store: new ObjectStore(s3, config.bucketName),
  limits: config.limits,
  filter: uriFilterFromEnv(),
  taskTimeToLiveHours: config.taskTimeToLiveHours,
};

/** The image of a task, for the fault hook of the first step (before `$.mark` exists). */
export const imageIdOfTask = async (state: { task_id?: unknown }): Promise<string | undefined> =>
  typeof state?.task_id === 'string' ? ((await tasks.get(state.task_id))?.image_id ?? undefined) : undefined;
