import { Fn, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * A log group name under `/aws/vendedlogs/<service>/`, where AWS asks the log groups services
 * deliver to to be (docs/operations.md#logs), made of the stack's name and the id CloudFormation
 * gives this stack: two stacks of one account never share one, and a log group kept from a deleted
 * stack (log groups are retained) never blocks a new stack of the same name.
 */
export const vendedLogGroupName = (scope: Construct, service: string, what: string): string => {
  const stack = Stack.of(scope);
  // arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>
  const uuid = Fn.select(2, Fn.split('/', stack.stackId));
  return `/aws/vendedlogs/${service}/${stack.stackName}-${what}-${uuid}`;
};
