import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { EventType, type IBucket } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  COMPLETE_ENTRY,
  COMPLETE_MAX_EVENT_AGE_SECONDS,
  COMPLETE_MEMORY_MB,
  COMPLETE_TIMEOUT_SECONDS,
  DATA_PATH_TIMEOUT_SECONDS,
  FINALISE_ENTRY,
  FINALISE_MEMORY_MB,
  SWEEP_ENTRY,
} from '#infra/functions';
import { applyGrants, COMPLETE_GRANTS, FINALISE_GRANTS, SWEEP_GRANTS } from '#infra/grants';
import { DATA_PREFIXES } from '#shared/storage/bucket';
import { dataEnvironment, type FunctionSettings, GlanceFunction } from './glance-function.ts';
import type { Monitoring } from './monitoring.ts';

export interface UploadsProps {
  readonly table: ITable;
  readonly bucket: IBucket;
  /** Memory, timeouts and environment from the settings. */
  readonly functions: FunctionSettings;
  /** Dead-letter queues and alarms. */
  readonly monitoring: Monitoring;
  /** @default every 5 minutes */
  readonly sweepEvery?: Duration;
}

/**
 * The data path's functions outside the API (decisions D1–D3, D7):
 *
 * - `Finalise`, the S3 `ObjectCreated` trigger of the data and staging prefixes only. It reads each
 *   new object once (size, md5, sha512) and moves the image to active or killed. 3008 MB (the
 *   most a new account allows; `memoryMb` raises it) gives it about 1.7 vCPUs, so sha512 runs on a
 *   second thread next to md5 and the S3 read; 15 minutes (Lambda's
 *   maximum) bounds what one invocation can read, at a few hundred MB/s, to some hundreds of GiB.
 *   It may only read and delete objects.
 *   S3 invokes it asynchronously: two retries, events kept for 6 hours, then the event goes to
 *   the `FinaliseFailures` queue (alarmed; the sweeper also finalises what was never finalised).
 * - `Sweeper`, every 5 minutes (EventBridge): uploads whose deadline passed go back to queued,
 *   objects the trigger never finalised are finalised, and import tasks whose execution never
 *   started are failed (docs/import-workflow.md#imports-that-never-started). A run that fails or
 *   cannot be delivered lands in `SweepFailures` (alarmed).
 * - `CompleteUpload`, invoked asynchronously by `.../complete` once the parts are checked: it
 *   assembles the multipart upload, which S3 may take minutes to do, so it runs outside the API's
 *   30 seconds. Two retries within 6 hours, then the event goes to `CompleteFailures` (alarmed); an
 *   upload that never completes is swept back to queued at its deadline.
 */
export class Uploads extends Construct {
  readonly finalise: GlanceFunction;
  readonly sweeper: GlanceFunction;
  readonly schedule: Rule;
  /** ObjectCreated events the finaliser failed on after S3's retries. */
  readonly finaliseFailures: Queue;
  /** Sweeper runs that could not be delivered or failed. */
  readonly sweepFailures: Queue;
  /** Assembles multipart uploads (docs/uploads.md#completing-a-multipart-upload). */
  readonly completer: GlanceFunction;
  /** Completions that still failed after Lambda's retries. */
  readonly completeFailures: Queue;

  constructor(scope: Construct, id: string, props: UploadsProps) {
    super(scope, id);
    const environment = dataEnvironment(props);
    const dataPath = { memoryMb: FINALISE_MEMORY_MB, timeoutSeconds: DATA_PATH_TIMEOUT_SECONDS };
    const targets = { table: props.table, bucket: props.bucket };

    this.finalise = new GlanceFunction(
      this,
      'Finalise',
      props.functions.propsFor(
        'Finalise',
        {
          entry: FINALISE_ENTRY,
          description:
            'S3 ObjectCreated trigger: verifies uploaded image data and activates or kills the image',
          environment,
        },
        dataPath,
      ),
    );
    applyGrants(this.finalise, FINALISE_GRANTS, targets);
    // S3 invokes asynchronously: what still fails after two retries (or ages out) is kept.
    this.finaliseFailures = props.monitoring.deadLetterQueue(
      this,
      'FinaliseFailures',
      'S3 ObjectCreated events the finaliser could not process',
    );
    this.finalise.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.finaliseFailures),
    });
    for (const prefix of DATA_PREFIXES) {
      props.bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(this.finalise), {
        prefix,
      });
    }

    this.sweeper = new GlanceFunction(
      this,
      'Sweeper',
      props.functions.propsFor(
        'Sweeper',
        {
          entry: SWEEP_ENTRY,
          description: 'Moves uploads whose deadline passed without data back to queued (D2)',
          environment,
        },
        dataPath,
      ),
    );
    applyGrants(this.sweeper, SWEEP_GRANTS, targets);
    // A failed run is not retried (the next one comes in minutes) but recorded: one that cannot be
    // delivered goes to the rule target's queue, one that fails to the function's.
    this.sweepFailures = props.monitoring.deadLetterQueue(
      this,
      'SweepFailures',
      'sweeper runs that could not be delivered or failed',
    );
    this.sweeper.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(this.sweepFailures),
    });
    this.schedule = new Rule(this, 'SweepSchedule', {
      description: 'Runs the upload sweeper',
      schedule: Schedule.rate(props.sweepEvery ?? Duration.minutes(5)),
      targets: [
        new LambdaFunction(this.sweeper, {
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
          deadLetterQueue: this.sweepFailures,
        }),
      ],
    });

    this.completer = new GlanceFunction(
      this,
      'CompleteUpload',
      props.functions.propsFor(
        'CompleteUpload',
        {
          entry: COMPLETE_ENTRY,
          description: 'Assembles a checked multipart upload (CompleteMultipartUpload) for .../complete',
          environment,
        },
        { memoryMb: COMPLETE_MEMORY_MB, timeoutSeconds: COMPLETE_TIMEOUT_SECONDS },
      ),
    );
    applyGrants(this.completer, COMPLETE_GRANTS, targets);
    this.completeFailures = props.monitoring.deadLetterQueue(
      this,
      'CompleteFailures',
      'multipart uploads the completion function could not assemble',
    );
    this.completer.configureAsyncInvoke({
      retryAttempts: 2,
      // Invariant: an upload's deadline outlasts its queued completion (COMPLETION_WINDOW_SECONDS).
      maxEventAge: Duration.seconds(COMPLETE_MAX_EVENT_AGE_SECONDS),
      onFailure: new SqsDestination(this.completeFailures),
    });
  }

  /**
   * Lets an API function queue completions: `lambda:InvokeFunction` on the completion function
   * alone (its unqualified ARN, no version or alias wildcard), and its name in
   * `COMPLETE_UPLOAD_FUNCTION`.
   */
  allowCompletion(fn: GlanceFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.completer.functionArn] }),
    );
    fn.addEnvironment('COMPLETE_UPLOAD_FUNCTION', this.completer.functionName);
  }
}
