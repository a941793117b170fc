/**
 * The cdk-nag findings the stack keeps on purpose, each acknowledged on the resource it concerns
 * with a one-line reason (docs/operations.md#cdk-nag). test/infra/nag.test.ts runs the AWS
 * Solutions and Serverless packs and fails on any finding not acknowledged here.
 */
import { type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import type { Policy } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { FAILURE_STEP, STEPS } from '#shared/import/state-machine';
import { parseS3Prefix, type S3Prefix } from '#shared/locations/url';
import { GlanceFunction } from './constructs/glance-function.ts';
import { knownPaths, routes } from './routes.ts';
import type { ServerlessGlanceStack } from './stack.ts';

/** One acknowledgment: rule (with its finding, if the rule reports several) and why. */
const ack = (scope: IConstruct, id: string, reason: string) =>
  Validations.of(scope).acknowledge({ id, reason });

/** `<LogicalId.Arn>` as cdk-nag writes a resource in a finding id. */
const arnOf = (stack: Stack, construct: IConstruct) =>
  `<${stack.getLogicalId(construct.node.defaultChild as CfnElement)}.Arn>`;

export const acknowledgeNagFindings = (stack: ServerlessGlanceStack): void => {
  const functions = stack.node
    .findAll()
    .filter((node): node is GlanceFunction => node instanceof GlanceFunction);
  const asynchronous = new Map<GlanceFunction, string>([
    [stack.uploads.finalise, 'FinaliseFailures'],
    [stack.uploads.sweeper, 'SweepFailures'],
    [stack.uploads.completer, 'CompleteFailures'],
    [stack.importWorkflow.functions.get('ExecutionEnded') as GlanceFunction, 'ExecutionEndedFailures'],
  ]);

  for (const fn of functions) {
    const runtime =
      'Node.js 22 is the runtime the whole test suite runs on (package.json engines); Lambda supports it until 2027.';
    ack(fn, 'AwsSolutions-L1', runtime);
    ack(fn, 'Serverless-LambdaLatestVersion', runtime);
    ack(
      fn,
      'Serverless-LambdaTracing',
      'Requests are followed by ids on every log line (function and API request ids); the state machine is X-Ray traced.',
    );
    const failures = asynchronous.get(fn);
    ack(
      fn,
      'Serverless-LambdaDLQ',
      failures
        ? `Invoked asynchronously with an on-failure destination (${failures}), which keeps the error a DLQ would lose.`
        : fn === stack.events.publisher
          ? 'Invoked by the table stream; its event source mapping sends what fails to PublishFailures.'
          : 'Invoked synchronously (API Gateway or Step Functions): a failure goes back to the caller, not to a queue.',
    );
  }

  // Object keys are `<prefix><image id>/...`: the data prefixes are the narrowest stable scope.
  const bucket = arnOf(stack, stack.data.bucket);
  for (const fn of functions) {
    const policy = fn.role?.node.tryFindChild('DefaultPolicy') as Policy | undefined;
    if (!policy) continue;
    const document = JSON.stringify(stack.resolve(policy.document.toJSON()));
    for (const prefix of ['images', 'staging'].filter((p) => document.includes(`/${p}/*`))) {
      ack(
        policy,
        `AwsSolutions-IAM5[Resource::${bucket}/${prefix}/*]`,
        `Objects are keyed per image under ${prefix}/; the function may only touch that prefix (infra/grants.ts).`,
      );
    }
    // The location readers (infra/locations.ts): GetObject on the allowed prefixes, nothing else.
    const allowed = stack.settings.locationS3Allowed?.map((entry) => parseS3Prefix(entry) as S3Prefix);
    const locationResources: [resource: string, written: string][] = allowed
      ? allowed.map((entry) => [
          `arn:<AWS::Partition>:s3:::${entry.bucket}/${entry.prefix}*`,
          `:::${entry.bucket}/${entry.prefix}*`,
        ])
      : [[`${bucket}/locations/*`, '/locations/*']];
    for (const [resource] of locationResources.filter(([, written]) => document.includes(written))) {
      ack(
        policy,
        `AwsSolutions-IAM5[Resource::${resource}]`,
        'Locations are objects under the allowed prefixes (locationS3Allowed); the reader may only read those.',
      );
    }
  }

  for (const { queue, source } of stack.monitoring.deadLetters) {
    const reason = `This queue is itself the dead-letter destination of ${source}.`;
    ack(queue, 'AwsSolutions-SQS3', reason);
    ack(queue, 'Serverless-SQSRedrivePolicy', reason);
  }

  // Glance serves the version documents without a token (docs/api.md#versions).
  for (const route of routes.filter((r) => !r.auth)) {
    for (const method of [route.method, 'ANY']) {
      const id = `${method}-${route.path.replace(/\//g, '-')}`;
      const found = stack.api.httpApi.node.tryFindChild(id);
      if (found && knownPaths().includes(route.path)) {
        ack(found, 'AwsSolutions-APIG4', 'The API version documents are public, as in Glance.');
      }
    }
  }

  const machinePolicy = stack.importWorkflow.stateMachine.role.node.tryFindChild('DefaultPolicy');
  if (machinePolicy) {
    for (const step of [...STEPS, FAILURE_STEP]) {
      const fn = stack.importWorkflow.functions.get(step.name) as GlanceFunction;
      ack(
        machinePolicy,
        `AwsSolutions-IAM5[Resource::${arnOf(stack, fn)}:*]`,
        'Step Functions may invoke the state function in any version or alias (how CDK grants LambdaInvoke).',
      );
    }
    ack(
      machinePolicy,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray trace submission and CloudWatch Logs delivery support no resource-level permissions.',
    );
  }
  const publisherPolicy = stack.events.publisher.role?.node.tryFindChild('DefaultPolicy');
  if (publisherPolicy) {
    ack(
      publisherPolicy,
      'AwsSolutions-IAM5[Resource::*]',
      'dynamodb:ListStreams, needed by the stream mapping, supports no resource-level permissions.',
    );
  }

  const notifications = stack.node.children.find((child) =>
    child.node.id.startsWith('BucketNotificationsHandler'),
  );
  if (notifications) {
    ack(
      notifications,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's own deploy-time handler that sets the bucket's notifications; it writes only its logs.",
    );
  }
};

/** For the count in the docs and the report: every acknowledgment made on the stack's constructs. */
export const acknowledgmentsOf = (stack: Stack): { path: string; id: string; reason: string }[] =>
  stack.node.findAll().flatMap((node) =>
    node.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .map(([id, reason]) => ({ path: node.node.path, id, reason })),
  );
