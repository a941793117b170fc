import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acceptsLegacyLocation,
  allowsFormatChange,
  decideImage,
  decideTask,
  hasUsableData,
  IMAGE_STATUSES,
  IMAGE_TRANSITIONS,
  IMAGE_TRIGGER_NAMES,
  IMAGE_TRIGGERS,
  IMPORT_SOURCE_STATUS,
  type ImageStatus,
  type ImageTrigger,
  type ImportMethodName,
  isActive,
  isAllowedImageTransition,
  isDeactivated,
  isGone,
  isImporting,
  isImportRunning,
  isImportSource,
  isInPlaceTrigger,
  isKilled,
  isLocationImportRunning,
  isPendingDelete,
  isTaskPending,
  isTaskProcessing,
  isTaskSucceeded,
  isTerminalTaskStatus,
  keepsItsData,
  TASK_STATUSES,
  TASK_TRANSITIONS,
  TASK_TRIGGER_NAMES,
  TASK_TRIGGERS,
  type TaskStatus,
  TransitionRefused,
  USAGE_HELD,
  usageHeldBy,
} from '#shared/status-rules';

const formatted = (status: ImageStatus) => ({
  id: 'img',
  status,
  disk_format: 'raw',
  container_format: 'bare',
});

const refusedStatus = (fn: () => unknown): number => {
  try {
    fn();
  } catch (error) {
    if (error instanceof TransitionRefused) return error.error.status;
    throw error;
  }
  return 0;
};

describe('image transition table', () => {
  it('is docs/lifecycle.md#allowed-transitions plus decisions D1-D4', () => {
    expect(IMAGE_TRANSITIONS).toEqual({
      queued: ['saving', 'uploading', 'importing', 'active', 'killed', 'deleted'],
      saving: ['queued', 'active', 'killed', 'deleted'],
      uploading: ['queued', 'importing', 'killed', 'deleted'],
      importing: ['queued', 'active', 'killed', 'deleted'],
      active: ['deactivated', 'pending_delete', 'deleted'],
      deactivated: ['active', 'deleted'],
      killed: ['deleted'],
      pending_delete: ['active', 'deleted'],
      deleted: [],
    });
  });

  it.each(IMAGE_STATUSES)('has no self-transition for %s', (status) => {
    expect(isAllowedImageTransition(status, status)).toBe(false);
  });

  it.each(IMAGE_TRIGGER_NAMES)('trigger %s only leads along allowed pairs', (trigger) => {
    const rule = IMAGE_TRIGGERS[trigger];
    for (const from of rule.from) {
      if (isInPlaceTrigger(trigger)) expect(rule.to).toBe(from);
      else expect(isAllowedImageTransition(from, rule.to)).toBe(true);
    }
  });

  it('reaches killed only from queued (a refused location), saving, uploading and importing, and leaves it only by delete', () => {
    const into = IMAGE_STATUSES.filter((from) => isAllowedImageTransition(from, 'killed'));
    expect(into.sort()).toEqual(['importing', 'queued', 'saving', 'uploading']);
    const triggersFromQueued = IMAGE_TRIGGER_NAMES.filter(
      (trigger) =>
        (IMAGE_TRIGGERS[trigger].from as readonly string[]).includes('queued') &&
        IMAGE_TRIGGERS[trigger].to === 'killed',
    );
    expect(triggersFromQueued).toEqual(['locationReject']);
    const allowedFromKilled = IMAGE_TRIGGER_NAMES.filter((trigger) => {
      try {
        return decideImage(formatted('killed'), trigger).kind === 'transition';
      } catch {
        return false;
      }
    });
    expect(allowedFromKilled).toEqual(['delete']);
  });
});

describe('decideImage', () => {
  const statusArb = fc.constantFrom(...IMAGE_STATUSES);
  const triggerArb = fc.constantFrom(...IMAGE_TRIGGER_NAMES);

  it('every walk the rules allow is a legal sequence of statuses', () => {
    fc.assert(
      fc.property(fc.array(triggerArb, { maxLength: 40 }), (triggers) => {
        let status: ImageStatus = 'queued';
        for (const trigger of triggers) {
          let decision: ReturnType<typeof decideImage>;
          try {
            decision = decideImage(formatted(status), trigger);
          } catch (error) {
            expect(error).toBeInstanceOf(TransitionRefused);
            continue;
          }
          if (decision.kind === 'noop') continue;
          expect(decision.from).toBe(status);
          if (!isInPlaceTrigger(trigger)) expect(isAllowedImageTransition(status, decision.to)).toBe(true);
          status = decision.to;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every (status, trigger) pair outside the rules, with the error Glance gives', () => {
    fc.assert(
      fc.property(statusArb, triggerArb, (status, trigger) => {
        const rule = IMAGE_TRIGGERS[trigger] as {
          from: readonly string[];
          noopFrom?: readonly string[];
          refusal: string;
        };
        const code = refusedStatus(() => decideImage(formatted(status), trigger));
        if (rule.from.includes(status) || rule.noopFrom?.includes(status)) {
          expect(code).toBe(0);
        } else {
          expect(code).toBe({ conflict: 409, forbidden: 403, 'not-found': 404 }[rule.refusal]);
        }
      }),
    );
  });

  it.each<[ImageTrigger, ImageStatus, number]>([
    ['uploadStart', 'active', 409],
    ['uploadStart', 'saving', 409],
    ['stageStart', 'uploading', 409],
    ['deactivate', 'queued', 403],
    ['reactivate', 'killed', 403],
    ['delete', 'deleted', 404],
    ['delete', 'pending_delete', 404],
    ['importStart', 'active', 409],
    ['sweep', 'active', 409],
  ])('%s from %s is refused with %i', (trigger, status, code) => {
    expect(refusedStatus(() => decideImage(formatted(status), trigger))).toBe(code);
  });

  it.each<[ImageTrigger, ImageStatus]>([
    ['deactivate', 'deactivated'],
    ['reactivate', 'active'],
  ])('%s from %s is an idempotent no-op', (trigger, status) => {
    expect(decideImage(formatted(status), trigger)).toEqual({ kind: 'noop', trigger, status });
  });

  it.each<ImageTrigger>(['uploadStart', 'importStart', 'locationAdd'])(
    '%s without disk and container formats is a 400',
    (trigger) => {
      const from = IMAGE_TRIGGERS[trigger].from[0] as ImageStatus;
      expect(refusedStatus(() => decideImage({ id: 'i', status: from, disk_format: 'raw' }, trigger))).toBe(
        400,
      );
      expect(
        refusedStatus(() => decideImage({ id: 'i', status: from, container_format: 'bare' }, trigger)),
      ).toBe(400);
    },
  );

  it('lets staging start without formats (queued → uploading needs none)', () => {
    expect(decideImage({ id: 'i', status: 'queued' }, 'stageStart')).toMatchObject({ to: 'uploading' });
  });
});

describe('decideTask', () => {
  const taskStatusArb = fc.constantFrom(...TASK_STATUSES);
  const taskTriggerArb = fc.constantFrom(...TASK_TRIGGER_NAMES);

  it('is docs/lifecycle.md#task-statuses', () => {
    expect(TASK_TRANSITIONS).toEqual({
      pending: ['processing', 'failure'],
      processing: ['success', 'failure'],
      success: [],
      failure: [],
    });
  });

  it('every allowed walk follows the table and ends terminal at most once', () => {
    fc.assert(
      fc.property(fc.array(taskTriggerArb, { maxLength: 20 }), (triggers) => {
        let status: TaskStatus = 'pending';
        for (const trigger of triggers) {
          try {
            const decision = decideTask({ id: 't', status }, trigger);
            expect(TASK_TRANSITIONS[status]).toContain(decision.to);
            status = decision.to;
          } catch (error) {
            expect(error).toBeInstanceOf(TransitionRefused);
            expect((TASK_TRIGGERS[trigger].from as readonly string[]).includes(status)).toBe(false);
          }
        }
      }),
    );
  });

  it('terminal statuses refuse every trigger with 409', () => {
    fc.assert(
      fc.property(taskStatusArb, taskTriggerArb, (status, trigger) => {
        if (!isTerminalTaskStatus(status)) return;
        expect(refusedStatus(() => decideTask({ id: 't', status }, trigger))).toBe(409);
      }),
    );
  });
});

describe('named status questions', () => {
  const imageStatus = fc.constantFrom(...IMAGE_STATUSES);
  const taskStatus = fc.constantFrom(...TASK_STATUSES);
  const method = fc.constantFrom<ImportMethodName>('glance-direct', 'web-download');
  const from = (trigger: ImageTrigger) => IMAGE_TRIGGERS[trigger].from as readonly ImageStatus[];
  const applies = (status: ImageStatus, trigger: ImageTrigger) =>
    refusedStatus(() => decideImage(formatted(status), trigger)) === 0;

  it('isGone: exactly the statuses a DELETE no longer finds (404)', () => {
    fc.assert(
      fc.property(imageStatus, (status) => {
        expect(isGone(status)).toBe(!from('delete').includes(status));
      }),
    );
  });

  it('hasUsableData: exactly the statuses deactivate and reactivate act on', () => {
    fc.assert(
      fc.property(imageStatus, (status) => {
        expect(hasUsableData(status)).toBe(
          from('deactivate').includes(status) || from('reactivate').includes(status),
        );
      }),
    );
  });

  it('keepsItsData: every status a DELETE still finds, and pending_delete until it is scrubbed', () => {
    fc.assert(
      fc.property(imageStatus, (status) => {
        expect(keepsItsData(status)).toBe(!isGone(status) || from('scrub').includes(status));
      }),
    );
  });

  it('isActive, isDeactivated, isImporting, isPendingDelete: the sources of deactivate, reactivate, importSucceed, scrub', () => {
    fc.assert(
      fc.property(imageStatus, (status) => {
        expect(isActive(status)).toBe(from('deactivate').includes(status));
        expect(isDeactivated(status)).toBe(from('reactivate').includes(status));
        expect(isImporting(status)).toBe(from('importSucceed').includes(status));
        expect(isPendingDelete(status)).toBe(from('scrub').includes(status));
      }),
    );
  });

  it('isKilled: the one live status that can only be deleted (D1)', () => {
    fc.assert(
      fc.property(imageStatus, (status) => {
        expect(isKilled(status)).toBe(!isGone(status) && IMAGE_TRANSITIONS[status].join() === 'deleted');
      }),
    );
  });

  it('allowsFormatChange: queued only, never once data is on its way (importing included), has arrived or is gone', () => {
    fc.assert(
      fc.property(imageStatus, (status) => {
        expect(allowsFormatChange(status)).toBe(status === 'queued');
        if (allowsFormatChange(status))
          expect(hasUsableData(status) || isGone(status) || isKilled(status) || isImporting(status)).toBe(
            false,
          );
      }),
    );
  });

  it('isImportSource: one status per method, and importStart applies from it', () => {
    fc.assert(
      fc.property(method, imageStatus, (name, status) => {
        expect(isImportSource(name, status)).toBe(IMPORT_SOURCE_STATUS[name] === status);
        if (isImportSource(name, status)) expect(applies(status, 'importStart')).toBe(true);
      }),
    );
  });

  it('task questions: the sources of start and succeed; success is terminal', () => {
    fc.assert(
      fc.property(taskStatus, (status) => {
        const taskApplies = (trigger: 'start' | 'succeed') =>
          refusedStatus(() => decideTask({ id: 't', status }, trigger)) === 0;
        expect(isTaskPending(status)).toBe(taskApplies('start'));
        expect(isTaskProcessing(status)).toBe(taskApplies('succeed'));
        if (isTaskSucceeded(status)) expect(isTerminalTaskStatus(status)).toBe(true);
        expect(isTaskSucceeded(status)).toBe(status === TASK_TRIGGERS.succeed.to);
      }),
    );
  });

  it('isImportRunning: the task can succeed and the image can be activated by the import', () => {
    fc.assert(
      fc.property(taskStatus, imageStatus, (task, image) => {
        const canSucceed = refusedStatus(() => decideTask({ id: 't', status: task }, 'succeed')) === 0;
        expect(isImportRunning({ status: task }, { status: image })).toBe(
          canSucceed && applies(image, 'importSucceed'),
        );
      }),
    );
  });

  it('isLocationImportRunning: the task can succeed and the image can take a location', () => {
    fc.assert(
      fc.property(taskStatus, imageStatus, (task, image) => {
        const canSucceed = refusedStatus(() => decideTask({ id: 't', status: task }, 'succeed')) === 0;
        expect(isLocationImportRunning({ status: task }, { status: image })).toBe(
          canSucceed && applies(image, 'locationAdd') && applies(image, 'locationReject'),
        );
      }),
    );
  });

  it('acceptsLegacyLocation: queued (which the location activates) and active images', () => {
    fc.assert(
      fc.property(imageStatus, (image) => {
        expect(acceptsLegacyLocation(image)).toBe(
          applies(image, 'locationAdd') || applies(image, 'delayedDelete'),
        );
      }),
    );
  });
});

describe('usage held in each status (docs/quotas.md#held-usage)', () => {
  const size = fc.option(fc.nat({ max: 2 ** 40 }), { nil: null });
  const facts = fc.record({
    status: fc.constantFrom(...IMAGE_STATUSES),
    size,
    upload: fc.option(fc.record({ declared_size: size }), { nil: null }),
  });
  const dataOnItsWay = (status: ImageStatus) =>
    [
      ...IMAGE_TRIGGERS.uploadFinish.from,
      ...IMAGE_TRIGGERS.stageFinish.from,
      ...IMAGE_TRIGGERS.importSucceed.from,
    ]
      .map(String)
      .includes(status);

  it('counts every image but a deleted one, and as uploading exactly those waiting for data', () => {
    fc.assert(
      fc.property(facts, (image) => {
        const held = usageHeldBy(image);
        expect(held.image_count_total).toBe(image.status === 'deleted' ? 0 : 1);
        expect(held.image_count_uploading).toBe(dataOnItsWay(image.status) ? 1 : 0);
      }),
    );
  });

  it('holds stored data while the data is usable or waits for the scrubber, a declared size while saving', () => {
    fc.assert(
      fc.property(facts, (image) => {
        const held = usageHeldBy(image);
        const stored = hasUsableData(image.status) || isPendingDelete(image.status);
        if (stored) expect(held.image_size_total).toBe(image.size ?? 0);
        else if (image.status === 'saving')
          expect(held.image_size_total).toBe(image.upload?.declared_size ?? 0);
        else expect(held.image_size_total).toBe(0);
        expect(held.image_stage_total > 0).toBe(
          USAGE_HELD[image.status].staged && (image.size ?? image.upload?.declared_size ?? 0) > 0,
        );
      }),
    );
  });

  it('holds nothing once deleted or killed but the image itself', () => {
    for (const status of ['deleted', 'killed'] as const) {
      expect(usageHeldBy({ status, size: 5, upload: { declared_size: 5 } })).toEqual({
        image_size_total: 0,
        image_stage_total: 0,
        image_count_total: status === 'killed' ? 1 : 0,
        image_count_uploading: 0,
      });
    }
  });

  it('only creating needs an image, only starting an upload or an import from queued needs an upload slot', () => {
    fc.assert(
      fc.property(fc.constantFrom(...IMAGE_TRIGGER_NAMES), facts, (trigger, image) => {
        const rule = IMAGE_TRIGGERS[trigger];
        fc.pre((rule.from as readonly ImageStatus[]).includes(image.status));
        const before = usageHeldBy(image);
        const after = usageHeldBy({ ...image, status: rule.to });
        expect(after.image_count_total).toBeLessThanOrEqual(before.image_count_total);
        const startsData =
          ['uploadStart', 'stageStart', 'importStart'].includes(trigger) && image.status === 'queued';
        expect(after.image_count_uploading > before.image_count_uploading).toBe(startsData);
      }),
    );
  });

  it('gives everything back on the way out: sweep, delete, rejects, failures and the scrubber never need room', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'sweep',
          'delete',
          'uploadReject',
          'stageReject',
          'importFail',
          'scrub',
          'deactivate',
          'reactivate',
          'delayedDelete',
        ) satisfies fc.Arbitrary<ImageTrigger>,
        facts,
        (trigger, image) => {
          const rule = IMAGE_TRIGGERS[trigger];
          fc.pre((rule.from as readonly ImageStatus[]).includes(image.status));
          const before = usageHeldBy(image);
          // A transition keeps the record's size unless it clears it (entering queued) or sets it.
          const after = usageHeldBy({
            ...image,
            status: rule.to,
            ...(rule.to === 'queued' ? { size: null } : {}),
          });
          for (const name of Object.keys(before) as (keyof typeof before)[]) {
            expect(after[name]).toBeLessThanOrEqual(before[name]);
          }
        },
      ),
    );
  });
});
