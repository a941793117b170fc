/**
 * Crashes between the steps of an image write, for the history and quota crash tests: a
 * repository whose `afterStep` hook throws `Crash` at a chosen step stops there as a crashed
 * function would (nothing after it runs, nothing is undone), and a lifecycle script that a
 * "restarted" repository continues from whatever was stored.
 */

import type { ImageRecord } from '#shared/images/model';
import { ImageRepository, type TransitionOptions, type WriteStep } from '#shared/images/repository';
import { MemberRepository } from '#shared/members/repository';
import { UsageLedger } from '#shared/quotas/ledger';
import { type Limits, UNLIMITED } from '#shared/quotas/usage';
import { decideImage, type ImageTrigger } from '#shared/status-rules';
import type { DynamoFixture } from './dynamo.ts';

export class Crash extends Error {
  constructor(readonly step: WriteStep) {
    super(`crashed after ${step}`);
  }
}

/** A repository on the fixture's table; `crash` says after which step of which write to stop. */
export const repositoryOf = (
  db: DynamoFixture,
  options: { limits?: Limits; crash?: (step: WriteStep) => boolean } = {},
): ImageRepository =>
  new ImageRepository(db.doc, db.emulators.tableName, new MemberRepository(db.doc, db.emulators.tableName), {
    ledger: new UsageLedger({ doc: db.doc, tableName: db.emulators.tableName }, options.limits ?? UNLIMITED),
    afterStep: (step) => {
      if (options.crash?.(step)) throw new Crash(step);
    },
  });

/** One step of a lifecycle script: a trigger and what goes with it. */
export interface ScriptStep {
  readonly trigger: ImageTrigger;
  readonly options?: (image: ImageRecord) => Partial<TransitionOptions>;
}

const upload = (image: ImageRecord, declared: number | null) => ({
  kind: 'file' as const,
  key: `images/${image.id}/u-${image.version}`,
  declared_size: declared,
  deadline: '2099-01-01T00:00:00.000Z',
});

/** Upload, activation, two deactivate/reactivate cycles, delete: every kind of usage change. */
export const LIFECYCLE: readonly ScriptStep[] = [
  { trigger: 'uploadStart', options: (image) => ({ set: { upload: upload(image, 2048) } }) },
  { trigger: 'sweep', options: () => ({ reason: 'expired', set: { upload: null } }) },
  { trigger: 'uploadStart', options: (image) => ({ set: { upload: upload(image, null) } }) },
  { trigger: 'uploadFinish', options: () => ({ set: { size: 4096, upload: null, data_key: 'k' } }) },
  { trigger: 'deactivate' },
  { trigger: 'reactivate' },
  { trigger: 'deactivate' },
  { trigger: 'reactivate' },
  { trigger: 'delete' },
];

/**
 * Runs `script` on the stored image: step `crashAt` with `crashing`, every other step with
 * `healthy`. After a crash, the healthy repository re-reads the image and goes on from the first
 * step the store does not show as done, as a retry after a restart would. Returns whether a
 * crash happened.
 */
export const runScript = async (
  healthy: ImageRepository,
  crashing: ImageRepository,
  imageId: string,
  script: readonly ScriptStep[],
  crashAt: number,
): Promise<boolean> => {
  let crashed = false;
  for (let index = 0; index < script.length; ) {
    const image = (await healthy.get(imageId)) as ImageRecord;
    const step = script[index] as ScriptStep;
    const repository = index === crashAt && !crashed ? crashing : healthy;
    try {
      await repository.transition(image, decideImage(image, step.trigger), {
        actor: `test:${index}`,
        ...step.options?.(image),
      });
      index += 1;
    } catch (error) {
      if (!(error instanceof Crash)) throw error;
      // Restarted: the step is done if the image moved on.
      const after = (await healthy.get(imageId)) as ImageRecord;
      if (after.version > image.version) index += 1;
      crashed = true;
    }
  }
  return crashed;
};
