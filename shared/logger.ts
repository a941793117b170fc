/**
 * One structured logger for every function (docs/operations.md#logs): JSON lines tagged with the
 * service, and during an invocation with the Lambda context (function name and version, cold
 * start, `function_request_id`). API functions get the context from their middleware
 * (shared/http/handler.ts); the others are wrapped in `withLambdaContext`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

export const logger = new Logger({ serviceName: 'serverless-glance' });

/**
 * A handler whose log lines carry the invocation's Lambda context, and only its own keys: what
 * one invocation appended is dropped after it. Called without a context (a test, the local
 * runner), it just runs.
 */
export const withLambdaContext =
  <E, R, C extends Context | undefined = Context | undefined>(
    handler: (event: E, context: C) => Promise<R>,
  ) =>
  async (
    ...[event, context]: undefined extends C ? [event: E, context?: C] : [event: E, context: C]
  ): Promise<R> => {
    if (context) logger.addContext(context);
    try {
      return await handler(event, context as C);
    } finally {
      logger.resetKeys();
    }
  };
