/**
 * Module-scope singletons for the functions: clients and configuration are built once per
 * container, at cold start, and a missing variable fails right there.
 */
import { createDocumentClient, createS3Client } from './aws-clients.ts';
import { booleanEnv, integerEnv, requiredEnv } from './config.ts';
import type { DataLimits } from './data/limits.ts';
import { ImageRepository } from './images/repository.ts';
import { TaskRepository } from './tasks/repository.ts';

export const config = {
  tableName: requiredEnv('TABLE_NAME'),
  bucketName: requiredEnv('BUCKET_NAME'),
  /** glance_store `delayed_delete`: deleting an image with data leaves it `pending_delete`. */
  delayedDelete: booleanEnv('DELAYED_DELETE', false),
  /** Glance's `scrub_time`: seconds a `pending_delete` image keeps its data before the scrubber. */
  scrubTimeSeconds: integerEnv('SCRUB_TIME_SECONDS', 0),
  limits: {
    // 100 GiB: one finaliser run (15-minute Lambda) must hash a whole image, sweeper re-drives included.
    sizeCap: integerEnv('IMAGE_SIZE_CAP', 100 * 1024 ** 3),
    projectQuota: integerEnv('USER_STORAGE_QUOTA', 0),
  } satisfies DataLimits,
  /** `[task] task_time_to_live`: hours a finished task stays listed (`expires_at`), spec §2.1. */
  taskTimeToLiveHours: integerEnv('TASK_TIME_TO_LIVE', 48),
} as const;

export const documentClient = createDocumentClient();
export const s3 = createS3Client();
export const images = new ImageRepository(documentClient, config.tableName);
export const tasks = new TaskRepository(documentClient, config.tableName);
