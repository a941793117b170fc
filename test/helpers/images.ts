import type { Caller } from '#shared/auth';
import { newImage } from '#shared/images/create';
import type { ImageRecord } from '#shared/images/model';

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
