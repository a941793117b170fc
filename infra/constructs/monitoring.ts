import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface MonitoringProps {
  /** CloudWatch namespace of the service's own metrics (Powertools, shared/metrics.ts). */
  readonly namespace: string;
  /** Subscribed to the alarms' topic when not empty. */
  readonly alarmEmail: string;
}

/** A queue that receives what an asynchronous path could not deliver or process. */
export interface DeadLetters {
  /** What ends up in it, for the dashboard and the docs. */
  readonly source: string;
  readonly queue: Queue;
  readonly alarm: Alarm;
}

/** SQS keeps a message at most 14 days: the time an operator has to look at a failure. */
const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * Where failures and alarms go (docs/operations.md): one encrypted dead-letter queue per
 * asynchronous path, each alarmed as soon as it holds a message, the alarms' SNS topic (encrypted
 * with a key of its own, which CloudWatch may use), and the service's metrics by name. The
 * dashboard (dashboard.ts) shows all of it.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly namespace: string;
  readonly deadLetters: DeadLetters[] = [];
  readonly alarms: Alarm[] = [];
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.namespace = props.namespace;
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'serverless-glance: encrypts alarm notifications',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch publishes the alarms; it must be able to use the key.
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: 'serverless-glance alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== '') this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    this.action = new SnsAction(this.topic);
  }

  /**
   * A dead-letter queue for one asynchronous path (SQS-managed encryption, TLS only, kept 14
   * days) and its alarm: any message in it is a failure nobody has handled yet.
   */
  deadLetterQueue(scope: Construct, id: string, source: string): Queue {
    const queue = new Queue(scope, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    const alarm = this.alarm(scope, `${id}NotEmpty`, {
      description: `${source}: a failure landed in the dead-letter queue (docs/operations.md#dead-letter-queues).`,
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
    });
    this.deadLetters.push({ source, queue, alarm });
    return queue;
  }

  /** A metric of the service's own (shared/metrics.ts), with the `service` dimension Powertools adds. */
  metric(
    name: string,
    options: { statistic?: string; period?: Duration; dimensions?: Record<string, string> } = {},
  ): Metric {
    return new Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { service: 'serverless-glance', ...options.dimensions },
      statistic: options.statistic ?? 'Sum',
      period: options.period ?? Duration.minutes(5),
    });
  }

  /** An alarm at or above `threshold`, notifying the topic when it fires and when it clears. */
  alarm(
    scope: Construct,
    id: string,
    props: {
      readonly description: string;
      readonly metric: IMetric;
      readonly threshold: number;
      readonly evaluationPeriods?: number;
      readonly treatMissingData?: TreatMissingData;
    },
  ): Alarm {
    const alarm = new Alarm(scope, id, {
      alarmDescription: props.description,
      metric: props.metric,
      threshold: props.threshold,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: props.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }
}
