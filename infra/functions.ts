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
/** Two vCPUs (Lambda gives one per 1769 MB): md5 and sha512 on two threads. The sweeper may re-drive finalisation. */
export const FINALISE_MEMORY_MB = 3538;
/** Both data-path functions may run for Lambda's maximum, 15 minutes. */
export const DATA_PATH_TIMEOUT_SECONDS = 900;

/** The table stream's consumer (infra/constructs/events.ts). */
export const PUBLISH_ENTRY = 'functions/events/publish-transitions.ts';
