import { afterAll, beforeAll, expect } from 'vitest';
/**
 * A local stack with the starter catalog loaded (as `npm start` has it) and tokens for the
 * callers the metadefs policy tells apart.
 */
import { MetadefRepository } from '#shared/metadefs/repository';
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
  // Loaded after the stack set the environment: what the runtime loads creates the logger, which
  // takes its level then (a static import would log every request at INFO).
  const { createDocumentClient } = await import('#shared/runtime');
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

/** A request as `token`; the body is sent as JSON. */
export const as =
  (stack: MetadefsStack, token: string) =>
  (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    stack.api(method, path, {
      token,
      ...(body === undefined ? {} : { body }),
      ...(headers ? { headers } : {}),
    });

/** Creates a namespace as admin (unprotected, public unless said otherwise) and returns its name. */
export const createNamespace = async (
  stack: MetadefsStack,
  body: Record<string, unknown> = {},
  prefix = 'ns',
): Promise<string> => {
  const namespace = (body.namespace as string | undefined) ?? uniqueName(prefix);
  const response = await as(stack, stack.admin)('POST', '/v2/metadefs/namespaces', {
    visibility: 'public',
    ...body,
    namespace,
  });
  if (response.status !== 201) throw new Error(`create ${namespace}: ${response.status} ${response.text}`);
  return namespace;
};

/** Glance's error body with `code` and a message containing `message`. */
export const glanceError = (code: number, message?: string) => ({
  error: expect.objectContaining({
    code,
    ...(message === undefined ? {} : { message: expect.stringContaining(message) }),
  }),
});

type Role = 'admin' | 'member' | 'reader' | 'other' | 'roleless';
/** Sends one request as one of the stack's callers (see `as`). */
export type RequestAs = ReturnType<typeof as>;

/**
 * The stack of one test file: started before its tests, stopped after them. `stack()` is the
 * running stack; each caller sends requests with its token.
 */
export const metadefsSuite = (options: { seed?: boolean } = {}) => {
  let started: MetadefsStack | undefined;
  beforeAll(async () => {
    started = await startMetadefsStack(options);
  });
  afterAll(() => started?.stop());
  const stack = (): MetadefsStack => {
    if (!started) throw new Error('the metadefs stack starts in beforeAll');
    return started;
  };
  const caller =
    (role: Role): RequestAs =>
    (...request) =>
      as(stack(), stack()[role])(...request);
  return {
    stack,
    admin: caller('admin'),
    member: caller('member'),
    reader: caller('reader'),
    other: caller('other'),
    roleless: caller('roleless'),
  };
};
