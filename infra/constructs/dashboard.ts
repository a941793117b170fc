import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC, SERVICE_NAME } from '#shared/metrics';
import type { Monitoring } from './monitoring.ts';

export interface ServiceAlarmsProps {
  readonly monitoring: Monitoring;
  readonly httpApi: HttpApi;
  readonly stateMachine: StateMachine;
  /** How often the sweeper publishes `OverdueImages`: no data for three runs is an alarm too. */
  readonly sweepEvery: Duration;
}

const FIVE_MINUTES = Duration.minutes(5);
const HOUR = Duration.hours(1);

/**
 * The alarms on the service's health and the dashboard (docs/operations.md#alarms): images stuck
 * past their deadline (must be 0, and the sweeper must keep reporting), the share of new images
 * killed, the API's 5xx rate, Lambda throttles, and each dead-letter queue (monitoring.ts); one
 * dashboard with the API, the functions, the transitions, the data path, the import and the
 * queues.
 */
export class ServiceAlarms extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const { monitoring, httpApi, stateMachine } = props;
    const namespace = monitoring.namespace;

    // Stuck images: OverdueImages (shared/uploads/overdue.ts) after every sweep. Missing data
    // means the sweeper stopped reporting, which is as bad.
    const overduePeriod = Duration.minutes(Math.max(15, 3 * props.sweepEvery.toMinutes()));
    monitoring.alarm(this, 'StuckImages', {
      description:
        'Images wait past their upload or import deadline, or the sweeper stopped reporting (docs/operations.md#alarms).',
      metric: monitoring.metric(METRIC.overdueImages, { statistic: 'Maximum', period: overduePeriod }),
      threshold: 1,
      treatMissingData: TreatMissingData.BREACHING,
    });

    // Killed rate: of the images that got a verdict in an hour, at least half killed (and at least 5).
    const killed = monitoring.metric(METRIC.imageKilled, { period: HOUR });
    const activated = monitoring.metric(METRIC.imageActivated, { period: HOUR });
    monitoring.alarm(this, 'KilledRate', {
      description:
        'Half or more of the images that got a verdict in the last hour were killed (docs/operations.md#alarms).',
      metric: new MathExpression({
        expression: 'IF(killed >= 5, 100 * killed / (killed + activated), 0)',
        usingMetrics: { killed, activated },
        label: 'killed %',
        period: HOUR,
      }),
      threshold: 50,
    });

    // 5xx rate of the API: 5 % or more of at least 20 requests in five minutes.
    const errors = httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' });
    const requests = httpApi.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' });
    monitoring.alarm(this, 'ServerErrors', {
      description: 'The API answered 5 % or more of its requests with a 5xx (docs/operations.md#alarms).',
      metric: new MathExpression({
        expression: 'IF(requests >= 20, 100 * errors / requests, 0)',
        usingMetrics: { errors, requests },
        label: '5xx %',
        period: FIVE_MINUTES,
      }),
      threshold: 5,
    });

    // Throttles: any Lambda invocation of the account refused for concurrency.
    const throttles = new Metric({
      namespace: 'AWS/Lambda',
      metricName: 'Throttles',
      statistic: 'Sum',
      period: FIVE_MINUTES,
    });
    monitoring.alarm(this, 'Throttles', {
      description:
        'Lambda refused invocations for lack of concurrency; see docs/deploying.md#capacity (docs/operations.md#alarms).',
      metric: throttles,
      threshold: 1,
    });

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const search = (metricName: string, dimensions: string[], statistic = 'Sum', label = '') =>
      new MathExpression({
        expression: `SEARCH('{${namespace},service,${dimensions.join(',')}} MetricName="${metricName}" service="${SERVICE_NAME}"', '${statistic}', 300)`,
        label,
        period: FIVE_MINUTES,
      });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 8, height: 6 });
    const lambda = (metricName: string, statistic: string) =>
      new Metric({ namespace: 'AWS/Lambda', metricName, statistic, period: FIVE_MINUTES });

    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: monitoring.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      graph('API requests and errors', [
        requests,
        httpApi.metricClientError({ period: FIVE_MINUTES }),
        errors,
      ]),
      graph('API latency (ms)', [
        httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p50' }),
        httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
      ]),
      graph(
        'Lambda (account)',
        [lambda('Errors', 'Sum'), throttles],
        [lambda('ConcurrentExecutions', 'Maximum')],
      ),
    );
    this.dashboard.addWidgets(
      graph('Image transitions by new status', [search(METRIC.imageTransition, ['status', 'trigger'])]),
      graph('Kills by reason', [search(METRIC.imageKilledByReason, ['reason'])]),
      graph('Images past their deadline', [
        monitoring.metric(METRIC.overdueImages, { statistic: 'Maximum' }),
        search(METRIC.overdueImages, ['waitingFor'], 'Maximum'),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Finalise: duration (ms) and bytes',
        [search(METRIC.finaliseDuration, ['outcome'], 'p99', 'p99')],
        [search(METRIC.finaliseBytes, ['outcome'])],
      ),
      graph(
        'Import: duration (ms) and bytes',
        [search(METRIC.importDuration, ['method'], 'p99', 'p99')],
        [search(METRIC.importBytes, ['method'])],
      ),
      graph('Import executions', [
        stateMachine.metricStarted({ period: FIVE_MINUTES }),
        stateMachine.metricSucceeded({ period: FIVE_MINUTES }),
        stateMachine.metricFailed({ period: FIVE_MINUTES }),
        stateMachine.metricTimedOut({ period: FIVE_MINUTES }),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Dead-letter queues (messages)',
        monitoring.deadLetters.map(({ source, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: FIVE_MINUTES,
            statistic: 'Maximum',
            label: source,
          }),
        ),
      ),
      graph('Task transitions by new status', [search(METRIC.taskTransition, ['status', 'trigger'])]),
    );
  }
}
