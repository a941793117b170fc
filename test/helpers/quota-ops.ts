/**
 * Random image writes across two projects, for the quota storm and crash tests: creates, upload
 * and stage starts (declared or not), finishes, kills, sweeps, deletes, deactivations, delayed
 * deletes and scrubs, owner moves. Each op reads the image afresh and writes through the
 * repository, so every write goes through the usage reservation; quota refusals and lost races
 * are outcomes, not failures.
 */

import type { ImageRecord } from '#shared/images/model';
import { ImageConflict, type ImageRepository } from '#shared/images/repository';
import { addUsage, NO_USAGE, QUOTA_NAMES, QuotaExceeded, type Usage } from '#shared/quotas/usage';
import { decideImage, type ImageTrigger, usageHeldBy } from '#shared/status-rules';
import { ownerIndexKey } from '#shared/table';
import { queuedImage } from './images.ts';

export const PROJECTS = ['p-storm-a', 'p-storm-b'] as const;

/** A seeded generator (mulberry32), so a failing run can be replayed. */
export const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** Every image of a project (listed ones: deleted and pending-delete images hold nothing or are scrubbed). */
export const imagesOf = async (images: ImageRepository, project: string): Promise<ImageRecord[]> => {
  const found: ImageRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await images.queryIndex({
      index: 'gsi1',
      partition: ownerIndexKey(project),
      descending: false,
      limit: 500,
      startKey,
    });
    found.push(...page.images);
    startKey = page.lastKey;
  } while (startKey);
  return found;
};

/** What the project's images hold, computed from their statuses and sizes alone. */
export const heldByImages = async (
  images: ImageRepository,
  project: string,
  extra: readonly string[] = [],
) => {
  let sum = NO_USAGE;
  const seen = new Set<string>();
  for (const image of await imagesOf(images, project)) {
    seen.add(image.id);
    sum = addUsage(sum, usageHeldBy(image));
  }
  // Pending-delete images are out of the owner index but still hold their data.
  for (const id of extra) {
    const image = await images.get(id);
    if (image && !seen.has(id) && image.owner === project) sum = addUsage(sum, usageHeldBy(image));
  }
  return sum;
};

const pickOne = <T>(items: readonly T[], random: () => number): T | undefined =>
  items[Math.floor(random() * items.length)];

const declared = (random: () => number) => (random() < 0.3 ? null : 1 + Math.floor(random() * 3 * 1024 ** 2));

/** The trigger and options an op applies to an image in its status. */
const choose = (
  image: ImageRecord,
  random: () => number,
): [ImageTrigger, Record<string, unknown>] | undefined => {
  const r = random();
  const key = `images/${image.id}/u${image.version}`;
  switch (image.status) {
    case 'queued':
      if (r < 0.45)
        return [
          'uploadStart',
          {
            set: {
              upload: {
                kind: 'file',
                key,
                declared_size: declared(random),
                deadline: '2099-01-01T00:00:00.000Z',
              },
            },
          },
        ];
      if (r < 0.8)
        return [
          'stageStart',
          {
            set: {
              upload: {
                kind: 'stage',
                key,
                declared_size: declared(random),
                deadline: '2099-01-01T00:00:00.000Z',
              },
            },
          },
        ];
      return ['delete', {}];
    case 'saving': {
      const size = image.upload?.declared_size ?? 1 + Math.floor(random() * 3 * 1024 ** 2);
      if (r < 0.5) return ['uploadFinish', { set: { size, upload: null, data_key: key } }];
      if (r < 0.7) return ['uploadReject', { reason: 'rejected', failure: 'size-mismatch' }];
      if (r < 0.9) return ['sweep', { reason: 'expired', set: { upload: null } }];
      return ['delete', {}];
    }
    case 'uploading':
      if (image.upload && r < 0.5) {
        const size = image.upload.declared_size ?? 1 + Math.floor(random() * 3 * 1024 ** 2);
        return ['stageFinish', { set: { size, upload: null, data_key: key } }];
      }
      if (r < 0.7) return ['stageReject', { reason: 'rejected' }];
      if (r < 0.9) return ['sweep', { reason: 'expired', set: { upload: null } }];
      return ['delete', {}];
    case 'active':
      if (r < 0.4) return ['deactivate', {}];
      if (r < 0.7) return ['delayedDelete', {}];
      return ['delete', {}];
    case 'deactivated':
      return r < 0.6 ? ['reactivate', {}] : ['delete', {}];
    case 'killed':
      return ['delete', {}];
    case 'pending_delete':
      return ['scrub', {}];
    default:
      return undefined;
  }
};

export type OpOutcome = 'created' | 'written' | 'moved' | 'refused' | 'lost' | 'idle';

/**
 * One random write in `PROJECTS`. `pendingDeletes` collects images sent to `pending_delete`
 * (they leave the owner index but keep holding their data until scrubbed).
 */
export const randomOp = async (
  images: ImageRepository,
  random: () => number,
  pendingDeletes: Set<string>,
): Promise<OpOutcome> => {
  const project = pickOne(PROJECTS, random) as string;
  try {
    const r = random();
    if (r < 0.15) {
      await images.create(queuedImage({ id: crypto.randomUUID(), owner: project }));
      return 'created';
    }
    const candidates = [...(await imagesOf(images, project)).map((image) => image.id), ...pendingDeletes];
    const id = pickOne(candidates, random);
    const image = id ? await images.get(id) : undefined;
    if (!image) return 'idle';
    if (r < 0.2 && image.status !== 'deleted' && image.status !== 'pending_delete') {
      const other = PROJECTS.find((name) => name !== image.owner) as string;
      await images.update(image, { owner: other });
      return 'moved';
    }
    const chosen = choose(image, random);
    if (!chosen) return 'idle';
    const [trigger, options] = chosen;
    const next = await images.transition(image, decideImage(image, trigger), { actor: 'storm', ...options });
    if (next.status === 'pending_delete') pendingDeletes.add(next.id);
    if (next.status === 'deleted') pendingDeletes.delete(next.id);
    return 'written';
  } catch (error) {
    if (error instanceof QuotaExceeded) return 'refused';
    if (error instanceof ImageConflict) return 'lost';
    throw error;
  }
};

/** Every quota's amount within its limit (null: unlimited). */
export const withinLimits = (
  usage: Usage,
  limits: Readonly<Record<string, number | null>>,
  units: Readonly<Record<string, number>>,
) =>
  QUOTA_NAMES.every(
    (name) => limits[name] === null || usage[name] <= (limits[name] as number) * (units[name] as number),
  );
