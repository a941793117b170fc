/**
 * The import state machine's definition as `cdk synth` produces it: a small stack holding only the
 * ImportWorkflow construct is synthesized in-process with bundling skipped, the state machine's
 * `DefinitionString` is read from the template, and its tokens are resolved, each Lambda ARN to the
 * local ARN of a function named after its state (lambda-runtime.ts), pseudo parameters to the local
 * account and region.
 */
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { ImportWorkflow } from '#infra/constructs/import';
import {
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type LocalFunction,
  localFunctionArn,
} from '#infra/local/lambda-runtime';
import { FAILURE_STEP, STEPS } from '#shared/import/state-machine';

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

/**
 * The state machine definition of a synthesized template, with the import's function ARNs
 * replaced by local ones named after their states and pseudo parameters by local values.
 */
export const definitionFromTemplate = (
  template: Template,
  functionIds: ReadonlyMap<string, string>,
  region = LOCAL_REGION,
): StateMachineDefinition => {
  const machines = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  if (machines.length !== 1)
    throw new Error(`expected one state machine in the template, found ${machines.length}`);
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': region,
    'AWS::AccountId': LOCAL_ACCOUNT_ID,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const resolveToken = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const token = value as Record<string, unknown>;
    if (Array.isArray(token?.['Fn::Join'])) {
      const [separator, parts] = token['Fn::Join'] as [string, unknown[]];
      return parts.map(resolveToken).join(separator);
    }
    if (Array.isArray(token?.['Fn::GetAtt'])) {
      const [id, attribute] = token['Fn::GetAtt'] as [string, string];
      const state = functionIds.get(id);
      if (state && attribute === 'Arn') return localFunctionArn(state, region);
    }
    if (typeof token?.Ref === 'string' && pseudo[token.Ref]) return pseudo[token.Ref] as string;
    throw new Error(`cannot resolve ${JSON.stringify(value)} in the state machine definition`);
  };
  return JSON.parse(resolveToken(machines[0]?.Properties.DefinitionString)) as StateMachineDefinition;
};

/** Logical id of each import function → its state name. */
export const importFunctionIds = (stack: Stack, workflow: ImportWorkflow): Map<string, string> =>
  new Map(
    [...workflow.functions].map(([name, fn]) => [
      stack.getLogicalId(fn.node.defaultChild as CfnElement),
      name,
    ]),
  );

/**
 * Synthesizes a stack with only the ImportWorkflow construct (imported table and bucket, no
 * bundling) and returns its definition. aws-cdk-lib loads on first use only.
 */
export const synthesizeImportDefinition = async (region = LOCAL_REGION): Promise<StateMachineDefinition> => {
  const [{ App, Stack }, { Table }, { Bucket }, { ImportWorkflow }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/aws-dynamodb'),
    import('aws-cdk-lib/aws-s3'),
    import('#infra/constructs/import'),
  ]);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'LocalImportWorkflow', { env: { account: LOCAL_ACCOUNT_ID, region } });
  const workflow = new ImportWorkflow(stack, 'Workflow', {
    table: Table.fromTableName(stack, 'Table', 'glance'),
    bucket: Bucket.fromBucketName(stack, 'Bucket', 'glance-images'),
  });
  const template = app.synth().getStackArtifact(stack.artifactId).template as Template;
  return definitionFromTemplate(template, importFunctionIds(stack, workflow), region);
};

/** The function of every Lambda state, by state name: its entry, timeout and memory. */
export const STATE_FUNCTIONS: Readonly<Record<string, Omit<LocalFunction, 'name'>>> = Object.fromEntries(
  [...STEPS, FAILURE_STEP].map((step) => [
    step.name,
    { entry: step.entry, timeoutSeconds: step.lambdaTimeoutSeconds, memoryMb: step.memoryMb },
  ]),
);
