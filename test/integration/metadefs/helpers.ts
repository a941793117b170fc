/**
 * A local stack with the starter catalog loaded (as `npm start` has it) and tokens for the
 * callers the metadefs policy tells apart.
 */
import { MetadefRepository } from '#shared/metadefs/repository';
import { createDocumentClient } from '#shared/runtime';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';

export interface MetadefsStack extends TestStack {
  readonly repository: MetadefRepository;
  /** admin of project `p-admin` */
  readonly admin: string;
  /** member (and so reader) of project `p-one` */
  readonly member: string;
  /** reader of project `p-one` */
  readonly reader: string;
  /** member of project `p-two` */
  readonly other: string;
  /** a user of project `p-one` without any role */
  readonly roleless: string;
}

export const startMetadefsStack = async (options: { seed?: boolean } = {}): Promise<MetadefsStack> => {
  const stack = await startTestStack({ metadefsStarterCatalog: options.seed !== false });
  const repository = new MetadefRepository(createDocumentClient(stack.dynamoEndpoint), stack.tableName);
  return {
    ...stack,
    repository,
    admin: await stack.tokenFor({ project: 'p-admin', roles: ['admin', 'member', 'reader'] }),
    member: await stack.tokenFor({ project: 'p-one', roles: ['member'] }),
    reader: await stack.tokenFor({ project: 'p-one', roles: ['reader'], user: 'reader-one' }),
    other: await stack.tokenFor({ project: 'p-two', roles: ['member'] }),
    roleless: await stack.tokenFor({ project: 'p-one', roles: [], user: 'nobody' }),
  };
};

let counter = 0;
/** A unique name, like tempest's `rand_name`. */
export const uniqueName = (prefix: string): string =>
  `${prefix}-${process.pid}-${++counter}-${Date.now() % 100000}`;
