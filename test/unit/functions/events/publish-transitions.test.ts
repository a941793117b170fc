import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handler } from '#functions/events/publish-transitions';
import { queuedImage } from '#test/helpers/images';

const image = queuedImage();
const record = (sequence: string, newImage: object, oldImage?: object) => ({
  eventName: oldImage ? 'MODIFY' : 'INSERT',
  dynamodb: {
    SequenceNumber: sequence,
    NewImage: marshall(newImage, { removeUndefinedValues: true }),
    ...(oldImage ? { OldImage: marshall(oldImage, { removeUndefinedValues: true }) } : {}),
  },
});
const created = { pk: `IMAGE#${image.id}`, sk: 'IMAGE', ...image };
const event = {
  Records: [record('1', created), record('2', { ...created, name: 'renamed' }, created)],
} as unknown as DynamoDBStreamEvent;

afterEach(() => vi.restoreAllMocks());

describe('publish-transitions', () => {
  it('puts one event per transition and reports no failure', async () => {
    const send = vi
      .spyOn(EventBridgeClient.prototype, 'send')
      .mockResolvedValue({ FailedEntryCount: 0 } as never);
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(send).toHaveBeenCalledTimes(1);
    const [command] = send.mock.calls[0] ?? [];
    const { input } = command as unknown as { input: { Entries: { DetailType: string }[] } };
    expect(input.Entries.map((entry) => entry.DetailType)).toEqual(['Image Status Changed']);
  });

  it('reports the first record whose events EventBridge refused, so Lambda retries from it', async () => {
    vi.spyOn(EventBridgeClient.prototype, 'send').mockResolvedValue({ FailedEntryCount: 1 } as never);
    expect(await handler(event)).toEqual({ batchItemFailures: [{ itemIdentifier: '1' }] });
  });
});
