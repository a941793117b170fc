import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PUBLISH_ENTRY } from '#infra/functions';
import { IMAGE_SORT_KEY } from '#shared/table';
import { type FunctionSettings, GlanceFunction } from './glance-function.ts';
import type { Monitoring } from './monitoring.ts';

export interface EventsProps {
  /** The table, with its stream enabled (new and old images). */
  readonly table: ITable;
  /** Memory, timeouts and environment from the settings. */
  readonly functions: FunctionSettings;
  /** Dead-letter queues and alarms. */
  readonly monitoring: Monitoring;
}

/**
 * Decision B2: the table's stream feeds one function that publishes every image and task
 * transition to the account's default EventBridge bus (source `serverless-glance`). Only image and
 * task items reach it (an event-source filter drops history, quota and idempotency items), failures are retried
 * from the failed record and, after ten retries, recorded in the `PublishFailures` queue; the
 * function may do nothing but read the stream and put events.
 */
export class TransitionEvents extends Construct {
  readonly publisher: GlanceFunction;
  /** Stream records whose events could not be published after every retry. */
  readonly failures: Queue;

  constructor(scope: Construct, id: string, props: EventsProps) {
    super(scope, id);
    this.failures = props.monitoring.deadLetterQueue(
      this,
      'PublishFailures',
      'table stream records whose transition events could not be published',
    );
    this.publisher = new GlanceFunction(
      this,
      'Publisher',
      props.functions.propsFor(
        'Publisher',
        {
          entry: PUBLISH_ENTRY,
          description: 'Publishes image and task transitions from the table stream to EventBridge (B2)',
        },
        { timeoutSeconds: 30 },
      ),
    );
    this.publisher.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 10,
        reportBatchItemFailures: true,
        // Records still failing after the retries: their stream position goes to a queue (alarmed).
        onFailure: new SqsDlq(this.failures),
        filters: [
          // The image item itself: its history items and other items in its partition carry no transition.
          FilterCriteria.filter({
            dynamodb: {
              Keys: {
                pk: { S: FilterRule.beginsWith('IMAGE#') },
                sk: { S: FilterRule.isEqual(IMAGE_SORT_KEY) },
              },
            },
          }),
          FilterCriteria.filter({ dynamodb: { Keys: { pk: { S: FilterRule.beginsWith('TASK#') } } } }),
        ],
      }),
    );
    EventBus.fromEventBusName(this, 'DefaultBus', 'default').grantPutEventsTo(this.publisher);
  }
}
