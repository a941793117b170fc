import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { QuotaName } from '#shared/quotas/usage';
import {
  quotaImageCountTotal,
  quotaImageCountUploading,
  quotaImageSizeTotal,
  quotaImageStageTotal,
  type Settings,
} from '#shared/settings';
import { Api } from './constructs/api.ts';
import { ServiceAlarms } from './constructs/dashboard.ts';
import { Data } from './constructs/data.ts';
import { TransitionEvents } from './constructs/events.ts';
import { FunctionSettings } from './constructs/glance-function.ts';
import { ImportWorkflow } from './constructs/import.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { Uploads } from './constructs/uploads.ts';
import { COMPLETING_ROUTES } from './functions.ts';
import { identitySettings } from './identity.ts';
import { grantLocationRead, locationConfigOf } from './locations.ts';
import { acknowledgeNagFindings } from './nag.ts';
import { IMPORT_STARTING_ROUTES } from './routes.ts';
import { contextKey, readSettings } from './settings.ts';

export interface ServerlessGlanceStackProps extends StackProps {
  /** False leaves the cdk-nag findings the stack keeps unacknowledged (a test checks each is real). */
  readonly acknowledgeNagFindings?: boolean;
}

/**
 * CDK context key of a quota's deployment limit (docs/quotas.md#names-and-limits), with Glance's
 * unified-limit name: `-c serverless-glance:quota:image_size_total=10`. Unset is unlimited.
 */
export const quotaContextKey = (name: QuotaName): string =>
  contextKey(
    {
      image_size_total: quotaImageSizeTotal,
      image_stage_total: quotaImageStageTotal,
      image_count_total: quotaImageCountTotal,
      image_count_uploading: quotaImageCountUploading,
    }[name],
  );

/**
 * The whole service in one stack. It sets no `env` and does no lookups, so it synthesizes offline
 * without credentials and deploys to whichever account and region the CLI is pointed at.
 */
export class ServerlessGlanceStack extends Stack {
  readonly data: Data;
  readonly api: Api;
  /** The S3 trigger and the upload sweeper (image data path). */
  readonly uploads: Uploads;
  /** The import workflow: Step Functions state machine, its functions, the execution-ended rule. */
  readonly importWorkflow: ImportWorkflow;
  /** Transition events from the table stream to EventBridge (decision B2). */
  readonly events: TransitionEvents;
  /** Dead-letter queues, alarms, the alarms' topic, the dashboard (docs/operations.md). */
  readonly monitoring: Monitoring;
  /** The deploy-time settings, as read from CDK context (infra/settings.ts). */
  readonly settings: Settings;

  constructor(scope: Construct, id: string, props?: ServerlessGlanceStackProps) {
    super(scope, id, props);

    // First, so a wrong, missing or placeholder setting fails the synth before anything is built.
    const identity = identitySettings(this.node);
    this.settings = readSettings(this.node);
    const settings = this.settings;
    const functions = new FunctionSettings(settings);
    const locations = locationConfigOf(settings);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      namespace: settings.metricsNamespace,
      alarmEmail: settings.alarmEmail,
    });
    const monitoring = this.monitoring;

    this.data = new Data(this, 'Data', {
      stagingExpirationDays: settings.stagingExpirationDays,
      accessLogDays: Number(settings.logRetentionDays),
    });
    this.api = new Api(this, 'Api', {
      data: this.data,
      identity,
      functions,
      throttle: { rateLimit: settings.apiThrottleRate, burstLimit: settings.apiThrottleBurst },
      logRetention: Number(settings.logRetentionDays) as RetentionDays,
    });

    this.uploads = new Uploads(this, 'Uploads', {
      table: this.data.table,
      bucket: this.data.bucket,
      functions,
      monitoring,
      sweepEvery: Duration.minutes(settings.sweepEveryMinutes),
    });

    this.importWorkflow = new ImportWorkflow(this, 'Workflow', {
      table: this.data.table,
      bucket: this.data.bucket,
      functions,
      monitoring,
      logRetention: Number(settings.logRetentionDays) as RetentionDays,
    });
    // The two functions that read locations: the workflow's Verify, and the download redirect's presigner.
    for (const reader of [
      this.importWorkflow.functions.get('Verify'),
      this.api.functions.get('DownloadImageData'),
    ]) {
      if (!reader) throw new Error('the location readers (Verify, DownloadImageData) must exist');
      grantLocationRead(reader, locations, this.data.bucket);
    }
    for (const name of IMPORT_STARTING_ROUTES) {
      const starter = this.api.functions.get(name);
      if (!starter) throw new Error(`route ${name} starts imports but has no function`);
      this.importWorkflow.allowStart(starter);
    }

    for (const name of COMPLETING_ROUTES) {
      const completing = this.api.functions.get(name);
      if (!completing) throw new Error(`route ${name} completes uploads but has no function`);
      this.uploads.allowCompletion(completing);
    }

    this.events = new TransitionEvents(this, 'Events', { table: this.data.table, functions, monitoring });
    functions.check();

    new ServiceAlarms(this, 'Alarms', {
      monitoring,
      httpApi: this.api.httpApi,
      stateMachine: this.importWorkflow.stateMachine,
      sweepEvery: Duration.minutes(settings.sweepEveryMinutes),
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.httpApi.apiEndpoint });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.data.bucket.bucketName });
    new CfnOutput(this, 'ImportStateMachineArn', { value: this.importWorkflow.stateMachine.stateMachineArn });

    // Last: the findings it acknowledges are on resources built above (infra/nag.ts).
    if (props?.acknowledgeNagFindings !== false) acknowledgeNagFindings(this);
  }
}
