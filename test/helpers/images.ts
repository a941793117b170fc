import type { Caller } from '#shared/auth';
import { budgetOf } from '#shared/images/budget';
import { newImage } from '#shared/images/create';
import type { HistoryEntry, ImageRecord } from '#shared/images/model';
import type { ImageRepository } from '#shared/images/repository';

export const member = (projectId = 'p-alpha', userId = 'u-alice'): Caller => ({
  userId,
  projectId,
  roles: ['member', 'reader'],
  isAdmin: false,
});

export const reader = (projectId = 'p-alpha', userId = 'u-rita'): Caller => ({
  userId,
  projectId,
  roles: ['reader'],
  isAdmin: false,
});

export const admin = (projectId = 'p-admin', userId = 'u-root'): Caller => ({
  userId,
  projectId,
  roles: ['admin', 'member', 'reader'],
  isAdmin: true,
});

/** A queued record with formats set, owned by the default member's project. */
export const queuedImage = (overrides: Partial<ImageRecord> = {}, now = new Date()): ImageRecord => ({
  ...newImage({ name: 'cirros', disk_format: 'raw', container_format: 'bare' }, member(), now),
  ...overrides,
});

/** Every history entry of an image, oldest first, read page by page as the API does. */
export const storedHistory = async (
  images: ImageRepository,
  id: string,
  limit = 100,
): Promise<HistoryEntry[]> => {
  const image = await images.get(id);
  if (!image) return [];
  const entries: HistoryEntry[] = [];
  let after = 0;
  for (;;) {
    const page = await images.historyPage(image, { after, limit });
    entries.push(...page.entries);
    const last = page.entries.at(-1);
    if (!page.more || !last) return entries;
    after = last.version;
  }
};

/**
 * `base` (a queued image by default) with an item budget of exactly `bytes`, padded with property
 * values of at most 60,000 bytes each.
 */
export const imageOfBudget = (bytes: number, base: ImageRecord = queuedImage()): ImageRecord => {
  const properties: Record<string, string> = {};
  for (let i = 0; ; i++) {
    properties[`pad${i}`] = '';
    const left = bytes - budgetOf({ ...base, properties });
    if (left <= 60_000) {
      properties[`pad${i}`] = 'x'.repeat(left);
      return { ...base, properties };
    }
    properties[`pad${i}`] = 'x'.repeat(60_000);
  }
};
