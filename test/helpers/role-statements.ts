/**
 * The IAM statements of the functions' roles as `cdk synth` writes them, for tests that configure
 * the local S3 like a role (infra/local/s3-access.ts).
 */
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { GlanceFunction } from '#infra/constructs/glance-function';
import type { PolicyStatement } from '#infra/local/s3-access';

/** Synthesizes the stack once; the returned function lists the statements of one function's role. */
export const roleStatementsIn = (stack: Stack): ((fn: GlanceFunction) => PolicyStatement[]) => {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<
    string,
    { Type: string; Properties: { Roles?: unknown; PolicyDocument?: { Statement: PolicyStatement[] } } }
  >;
  return (fn) => {
    const role = stack.getLogicalId(fn.role?.node.defaultChild as CfnElement);
    return Object.values(resources)
      .filter(
        (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${role}"`),
      )
      .flatMap((r) => r.Properties.PolicyDocument?.Statement ?? []);
  };
};
