/**
 * Nothing lost, and it shows (docs/operations.md): synthesized from the example context (with an
 * identity), every asynchronous path of the template ends in an encrypted, alarmed queue when it
 * gives up; the state machine and the API log; the API is throttled; the required alarms exist
 * and notify the topic. The checks read the template generically, so a new asynchronous path
 * without a failure destination fails them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '#infra/constructs/glance-function';
import { ServerlessGlanceStack } from '#infra/stack';

type Resource = { Type: string; Properties: Record<string, unknown> };
let resources: Record<string, Resource>;
let stack: ServerlessGlanceStack;

beforeAll(() => {
  const example = JSON.parse(readFileSync(join(REPO_ROOT, 'infra/cdk.context.example.json'), 'utf8'));
  const app = new App({
    context: {
      ...example,
      'aws:cdk:bundling-stacks': [],
      'serverless-glance:identityMode': 'jwt',
      'serverless-glance:jwtIssuer': 'https://idp.corp.net/',
      'serverless-glance:jwtAudience': 'glance',
    },
  });
  stack = new ServerlessGlanceStack(app, 'FailuresTest');
  resources = Template.fromStack(stack).toJSON().Resources;
}, 120_000);

const ofType = (type: string) =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type) as [string, Resource][];
/** The logical id a `{Ref}` or `{Fn::GetAtt: [id, ...]}` points at. */
const idOf = (value: unknown): string | undefined => {
  const ref = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return ref?.Ref ?? ref?.['Fn::GetAtt']?.[0];
};
const queueIds = () => new Set(ofType('AWS::SQS::Queue').map(([id]) => id));

describe('every asynchronous path has a failure destination', () => {
  /**
   * Functions invoked asynchronously: by S3 notifications and EventBridge rules (resource
   * policies), and by other functions (a function's role allowed to invoke one; every
   * function-to-function invoke of the service is an `Event` invoke). The state machine's role
   * invokes its steps synchronously and is left out.
   */
  const asyncTargets = () => {
    const machineRole = idOf(
      (ofType('AWS::StepFunctions::StateMachine')[0]?.[1].Properties as { RoleArn?: unknown } | undefined)
        ?.RoleArn,
    );
    const byFunctions = ofType('AWS::IAM::Policy')
      .filter(([, policy]) => !JSON.stringify(policy.Properties.Roles).includes(`"${machineRole}"`))
      .flatMap(
        ([, policy]) =>
          (policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
            .Statement,
      )
      .filter((statement) => [statement.Action].flat().includes('lambda:InvokeFunction'))
      .flatMap((statement) => [statement.Resource].flat().map(idOf));
    const byServices = ofType('AWS::Lambda::Permission')
      .filter(([, p]) =>
        ['s3.amazonaws.com', 'events.amazonaws.com'].includes(p.Properties.Principal as string),
      )
      .map(([, p]) => idOf(p.Properties.FunctionName));
    return [...byServices, ...byFunctions];
  };

  it('finds the asynchronous invocations: the S3 trigger, the sweeper schedule, the execution-ended rule, the completion', () => {
    const targets = new Set(asyncTargets());
    expect(targets).toEqual(
      new Set(
        [
          stack.uploads.finalise,
          stack.uploads.sweeper,
          stack.importWorkflow.functions.get('ExecutionEnded'),
          stack.uploads.completer,
        ].map((fn) => stack.getLogicalId(fn?.node.defaultChild as never)),
      ),
    );
  });

  it('gives each asynchronously invoked function an on-failure queue', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig');
    for (const target of asyncTargets()) {
      const config = configs.find(([, c]) => idOf(c.Properties.FunctionName) === target);
      expect(config, `${target} has no EventInvokeConfig`).toBeDefined();
      const destination = (
        config?.[1].Properties.DestinationConfig as { OnFailure?: { Destination: unknown } }
      )?.OnFailure?.Destination;
      expect(queueIds().has(idOf(destination) ?? ''), `${target} fails into no queue`).toBe(true);
    }
  });

  it('gives every rule target that invokes a function a dead-letter queue', () => {
    const targets = ofType('AWS::Events::Rule').flatMap(
      ([, rule]) => rule.Properties.Targets as { Arn: unknown; DeadLetterConfig?: { Arn: unknown } }[],
    );
    expect(targets.length).toBe(2);
    for (const target of targets) expect(queueIds().has(idOf(target.DeadLetterConfig?.Arn) ?? '')).toBe(true);
  });

  it('gives every stream mapping an on-failure queue', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThan(0);
    for (const [, mapping] of mappings) {
      const destination = (mapping.Properties.DestinationConfig as { OnFailure?: { Destination: unknown } })
        ?.OnFailure?.Destination;
      expect(queueIds().has(idOf(destination) ?? '')).toBe(true);
    }
  });

  it('encrypts every queue, refuses plain HTTP to it, and alarms as soon as it holds a message', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    for (const id of queueIds()) {
      expect(resources[id]?.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
      });
      const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) =>
        JSON.stringify(p.Properties.Queues).includes(`"${id}"`),
      );
      expect(JSON.stringify(policy?.[1].Properties.PolicyDocument)).toContain(
        '"aws:SecureTransport":"false"',
      );
      const alarm = alarms.find(
        (a) =>
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Dimensions).includes(`"${id}"`),
      );
      expect(alarm, `no alarm on ${id}`).toMatchObject({ Threshold: 1, EvaluationPeriods: 1 });
    }
  });
});

describe('what the service does shows', () => {
  it('logs every state machine event, without execution data', () => {
    const [[, machine]] = ofType('AWS::StepFunctions::StateMachine') as [[string, Resource]];
    expect(machine.Properties.LoggingConfiguration).toMatchObject({
      Level: 'ALL',
      IncludeExecutionData: false,
    });
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('logs every API request and throttles the stage', () => {
    const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, Resource]];
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: {
        DestinationArn: expect.anything(),
        Format: expect.stringContaining('$context.requestId'),
      },
    });
  });

  it.each([
    ['images past their deadline', 'OverdueImages'],
    ['killed rate', 'ImageKilled'],
    ['5xx rate', '5xx'],
    ['throttles', 'Throttles'],
  ])('alarms on %s', (_, metricName) => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => JSON.stringify(alarm.Properties));
    expect(alarms.some((alarm) => alarm.includes(`"MetricName":"${metricName}"`))).toBe(true);
  });

  it('sends every alarm, and its recovery, to the encrypted topic', () => {
    const [[topicId, topic]] = ofType('AWS::SNS::Topic') as [[string, Resource]];
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    for (const [, alarm] of ofType('AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
  });

  it('has one dashboard', () => {
    expect(ofType('AWS::CloudWatch::Dashboard')).toHaveLength(1);
  });
});
