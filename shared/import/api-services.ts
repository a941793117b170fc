/**
 * Module-scope dependencies of the API functions that start imports (`POST .../import`,
 * `POST /v2/tasks`). `STATE_MACHINE_ARN` is required: a function deployed without it fails at
 * cold start rather than at its first import.
 */
import { requiredEnv } from '#shared/config';
import { config, images, tasks } from '#shared/services';
import { createExecutions } from '#shared/tasks/executions';
import type { ImportApiDeps } from './start-import.ts';
import { uriFilterFromEnv } from './uri-filter.ts';

export const importApiDeps: ImportApiDeps = {
  images,
  tasks,
  executions: createExecutions(requiredEnv('STATE_MACHINE_ARN')),
  limits: config.limits,
  filter: uriFilterFromEnv(),
  taskTimeToLiveHours: config.taskTimeToLiveHours,
};
