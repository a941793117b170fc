import { describe, expect, it } from 'vitest';
import { EVENT_DETAIL_TYPES, EVENT_SOURCE, transitionEvents } from '#shared/events';
import { queuedImage } from '#test/helpers/images';

const item = (record: object, pk: string) => ({ pk, sk: pk.split('#')[0], ...record });

describe('transitionEvents', () => {
  const image = queuedImage();
  const created = item(image, `IMAGE#${image.id}`);
  const saving = {
    ...created,
    status: 'saving',
    version: 2,
    outbox: [
      {
        version: 2,
        from: 'queued',
        to: 'saving',
        trigger: 'uploadStart',
        actor: 'user:u@project:p',
        at: '2026-01-01T00:00:01.000Z',
      },
    ],
  };

  it('publishes the creation of an image', () => {
    const [event, ...rest] = transitionEvents({ new: created });
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPES.image });
    expect(JSON.parse(event?.Detail ?? '{}')).toMatchObject({
      image_id: image.id,
      from: null,
      to: 'queued',
      trigger: 'create',
    });
  });

  it('publishes exactly the entry a transition put in the outbox', () => {
    const events = transitionEvents({ old: created, new: saving });
    expect(events.map((event) => JSON.parse(event.Detail))).toEqual([
      expect.objectContaining({
        image_id: image.id,
        version: 2,
        from: 'queued',
        to: 'saving',
        trigger: 'uploadStart',
        actor: 'user:u@project:p',
      }),
    ]);
    expect(events[0]?.Time.toISOString()).toBe('2026-01-01T00:00:01.000Z');
  });

  it('keeps the reason of a kill', () => {
    const killed = {
      ...saving,
      status: 'killed',
      version: 3,
      outbox: [
        {
          version: 3,
          from: 'saving',
          to: 'killed',
          trigger: 'uploadReject',
          actor: 'system:s3-trigger',
          at: '2026-01-01T00:00:02.000Z',
          reason: 'Size mismatch',
        },
      ],
    };
    expect(JSON.parse(transitionEvents({ old: saving, new: killed })[0]?.Detail ?? '{}')).toMatchObject({
      to: 'killed',
      reason: 'Size mismatch',
    });
  });

  it('publishes nothing for edits that change no status (PATCH, tags) or only fence the version', () => {
    expect(transitionEvents({ old: saving, new: { ...saving, name: 'renamed', version: 3 } })).toEqual([]);
    expect(transitionEvents({ old: saving, new: { ...saving, version: 3 } })).toEqual([]);
  });

  it('publishes nothing for the history items a later transition writes, nor for deletions', () => {
    const entry = saving.outbox[0];
    const historyItem = { pk: `IMAGE#${image.id}`, sk: 'HISTORY#0000000000000002', ...entry };
    expect(transitionEvents({ new: historyItem })).toEqual([]);
    expect(transitionEvents({ old: historyItem, new: historyItem })).toEqual([]);
    expect(transitionEvents({ old: saving })).toEqual([]);
  });

  it('publishes each transition once across a chain of writes', () => {
    const chain = [created, saving, { ...saving, name: 'x', version: 3 }];
    const events = chain
      .slice(1)
      .flatMap((next, index) => transitionEvents({ old: chain[index], new: next }));
    expect(events).toHaveLength(1);
  });

  it('publishes task status changes only', () => {
    const task = {
      pk: 'TASK#t1',
      sk: 'TASK',
      id: 't1',
      type: 'api_image_import',
      owner: 'p',
      image_id: 'i1',
      status: 'pending',
      updated_at: '2026-01-01T00:00:00.000Z',
      message: '',
    };
    const processing = { ...task, status: 'processing' };
    const failed = { ...processing, status: 'failure', message: 'Import failed at step Fetch: 404' };
    expect(transitionEvents({ old: task, new: { ...task, updated_at: '2026-01-01T00:01:00.000Z' } })).toEqual(
      [],
    );
    expect(JSON.parse(transitionEvents({ old: task, new: processing })[0]?.Detail ?? '{}')).toMatchObject({
      task_id: 't1',
      from: 'pending',
      to: 'processing',
    });
    const [event] = transitionEvents({ old: processing, new: failed });
    expect(event?.DetailType).toBe(EVENT_DETAIL_TYPES.task);
    expect(JSON.parse(event?.Detail ?? '{}')).toMatchObject({
      to: 'failure',
      message: 'Import failed at step Fetch: 404',
    });
  });

  it('ignores records that are neither images nor tasks (idempotency records)', () => {
    expect(transitionEvents({ new: { pk: 'IDEMPOTENCY#finalise', sk: 'x', status: 'COMPLETED' } })).toEqual(
      [],
    );
  });
});
