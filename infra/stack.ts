import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Api } from './constructs/api.ts';
import { Data } from './constructs/data.ts';
import { TransitionEvents } from './constructs/events.ts';
import { ImportWorkflow } from './constructs/import.ts';
import { Uploads } from './constructs/uploads.ts';
import { identitySettings } from './identity.ts';
import { IMPORT_STARTING_ROUTES } from './routes.ts';

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

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // First, so a missing or placeholder setting fails the synth before anything is built.
    const identity = identitySettings(this.node);
    this.data = new Data(this, 'Data');
    this.api = new Api(this, 'Api', { data: this.data, identity });

    this.uploads = new Uploads(this, 'Uploads', { table: this.data.table, bucket: this.data.bucket });

    this.importWorkflow = new ImportWorkflow(this, 'Workflow', {
      table: this.data.table,
      bucket: this.data.bucket,
    });
    for (const name of IMPORT_STARTING_ROUTES) {
      const starter = this.api.functions.get(name);
      if (!starter) throw new Error(`route ${name} starts imports but has no function`);
      this.importWorkflow.allowStart(starter);
    }

    this.events = new TransitionEvents(this, 'Events', { table: this.data.table });

    new CfnOutput(this, 'ApiUrl', { value: this.api.httpApi.apiEndpoint });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.data.bucket.bucketName });
    new CfnOutput(this, 'ImportStateMachineArn', { value: this.importWorkflow.stateMachine.stateMachineArn });
  }
}
