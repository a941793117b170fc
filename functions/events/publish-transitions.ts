/**
 * The table stream's consumer (decision B2): publishes every image and task transition to the
 * default EventBridge bus, and counts it (shared/metrics.ts): the one place that sees exactly the
 * transitions written, whichever function wrote them, at no cost to the request path. A record whose events cannot all be published is reported as a batch
 * item failure, so Lambda retries from it and no transition is silently dropped.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { type ChangedItem, type TransitionEvent, transitionEvent, transitionsOf } from '#shared/events';
import { logger, withLambdaContext } from '#shared/logger';
import { recordTransition } from '#shared/metrics';
import { eventBridgeClient } from '#shared/runtime';

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_LIMIT = 10;

const publish = async (events: readonly TransitionEvent[]): Promise<void> => {
  for (let start = 0; start < events.length; start += PUT_EVENTS_LIMIT) {
    const { FailedEntryCount = 0 } = await eventBridgeClient().send(
      new PutEventsCommand({
        Entries: events.slice(start, start + PUT_EVENTS_LIMIT).map((event) => ({ ...event })),
      }),
    );
    if (FailedEntryCount > 0) throw new Error(`${FailedEntryCount} transition event(s) were not accepted`);
  }
};

type AttributeMap = Parameters<typeof unmarshall>[0];
type StreamRecord = DynamoDBStreamEvent['Records'][number];

/**
 * A stream record's items as plain objects. Client-chosen names never appear as map keys in an
 * item (shared/dynamo.ts), so unmarshalling any image or task is safe.
 */
export const changeOf = (record: StreamRecord): ChangedItem => ({
  old: record.dynamodb?.OldImage ? unmarshall(record.dynamodb.OldImage as AttributeMap) : undefined,
  new: record.dynamodb?.NewImage ? unmarshall(record.dynamodb.NewImage as AttributeMap) : undefined,
});

export const handler = withLambdaContext(
  async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const record of event.Records) {
      const transitions = transitionsOf(changeOf(record));
      try {
        await publish(transitions.map(transitionEvent));
      } catch (error) {
        logger.error('publishing transition events failed', { error: error as Error });
        // Records are in order per item: retry from the first one not published.
        return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
      }
      // Counted once published: a record retried after a failure is counted on the retry only.
      for (const transition of transitions) recordTransition(transition);
    }
    return { batchItemFailures: [] };
  },
);
