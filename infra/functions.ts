/**
 * The functions outside the route table (infra/routes.ts) and the import state machine
 * (shared/import/state-machine.ts): their entry files, relative to the repository root, and the
 * settings the CDK constructs give them. Pure, so the local stack runs them with the same settings
 * without loading aws-cdk-lib.
 */

/** The S3 `ObjectCreated` trigger of the data bucket (infra/constructs/uploads.ts). */
export const FINALISE_ENTRY = 'functions/uploads/finalise.ts';
/** The scheduled upload sweeper and scrubber (infra/constructs/uploads.ts). */
export const SWEEP_ENTRY = 'functions/uploads/sweep.ts';
/**
 * 3008 MB, the most every account accepts by default (new accounts are capped there until their
 * Lambda memory quota is raised): about 1.7 vCPUs (Lambda gives one per 1769 MB), so sha512 on a
 * second and third thread (md5 and sha512 on two workers) still run next to the S3 read. Accounts that allow more can give
 * `Finalise` and `Sweeper` 3538 MB (two full vCPUs) with the `memoryMb` setting. The sweeper may
 * re-drive finalisation, so it gets the same.
 */
export const FINALISE_MEMORY_MB = 3008;

/** The most memory a function may have on an account whose Lambda memory quota was never raised. */
export const DEFAULT_ACCOUNT_MEMORY_MB = 3008;
/** Both data-path functions may run for Lambda's maximum, 15 minutes. */
export const DATA_PATH_TIMEOUT_SECONDS = 900;

/** Assembles multipart uploads, invoked asynchronously by `.../complete` (infra/constructs/uploads.ts). */
export const COMPLETE_ENTRY = 'functions/uploads/complete-multipart-upload.ts';
/**
 * S3 keeps CompleteMultipartUpload open while it assembles the object, which AWS documents can take
 * several minutes for large ones: the timeout is Lambda's maximum (shared/uploads/lifetime.ts, where
 * an upload's deadline is held past it), so an assembly is never cut short. The function only
 * waits, so it needs little memory.
 */
export { COMPLETE_MAX_EVENT_AGE_SECONDS, COMPLETE_TIMEOUT_SECONDS } from '#shared/uploads/lifetime';
export const COMPLETE_MEMORY_MB = 256;
/** The API functions that queue assemblies (infra/routes.ts). */
export const COMPLETING_ROUTES: ReadonlySet<string> = new Set(['CompleteImageUpload', 'CompleteImageStage']);

/** The table stream's consumer (infra/constructs/events.ts). */
export const PUBLISH_ENTRY = 'functions/events/publish-transitions.ts';
