/**
 * What one write of an image changes in its owner's usage (docs/quotas.md#reservations): the
 * difference between the usage the image holds now and the usage it will hold, per project (two
 * projects when an administrator changes the owner), under a token that names this very write.
 * Pure: no AWS, no I/O.
 */
import { randomBytes } from 'node:crypto';
import { type UsageFacts, usageHeldBy } from '#shared/status-rules';
import {
  type HeldUsage,
  isNoUsage,
  NO_USAGE,
  negateUsage,
  subtractUsage,
  type Usage,
  usageOf,
} from './usage.ts';

export interface ProjectDelta {
  readonly project: string;
  readonly delta: Usage;
}

export interface UsageChange {
  /** `<image id>/<version the write is conditioned on, 0 for a create>/<random>`. */
  readonly token: string;
  /** Non-zero differences, the project that gains first. */
  readonly deltas: readonly ProjectDelta[];
  /**
   * The change this one supersedes on the image. It landed (the image records it), but its
   * entry may still be pending on these projects: it is settled before the image moves past it.
   */
  readonly previous?: { readonly token: string; readonly projects: readonly string[] };
  /** What the image records once written. */
  readonly held: HeldUsage;
}

/** The parts of an image a usage change depends on. */
export interface UsageOwner {
  readonly id: string;
  readonly version: number;
  readonly owner: string | null;
  readonly held: HeldUsage | null;
}

export const newToken = (imageId: string, baseVersion: number): string =>
  `${imageId}/${baseVersion}/${randomBytes(8).toString('hex')}`;

/** The image and the version its write was conditioned on, from a token. */
export const parseToken = (token: string): { imageId: string; baseVersion: number } => {
  const [imageId = '', version = ''] = token.split('/');
  return { imageId, baseVersion: Number(version) };
};

/** The usage an image in this state holds: none without an owner. */
export const heldAmounts = (image: UsageFacts & { readonly owner: string | null }): Usage =>
  image.owner === null ? NO_USAGE : usageHeldBy(image);

/**
 * The change a write from `before` (undefined: a create) to `next` makes, or undefined when it
 * changes no usage (the image keeps what it records).
 */
export const usageChange = (
  before: UsageOwner | undefined,
  next: UsageFacts & { readonly id: string; readonly owner: string | null },
  token: string = newToken(next.id, before?.version ?? 0),
): UsageChange | undefined => {
  const had = usageOf(before?.held);
  const will = heldAmounts(next);
  const oldOwner = before?.owner ?? null;
  const deltas: ProjectDelta[] = [];
  if (oldOwner === next.owner) {
    const delta = subtractUsage(will, had);
    if (next.owner !== null && !isNoUsage(delta)) deltas.push({ project: next.owner, delta });
  } else {
    if (next.owner !== null && !isNoUsage(will)) deltas.push({ project: next.owner, delta: will });
    if (oldOwner !== null && !isNoUsage(had)) deltas.push({ project: oldOwner, delta: negateUsage(had) });
  }
  if (deltas.length === 0) return undefined;
  const previous = before?.held ? { token: before.held.token, projects: before.held.projects } : undefined;
  return {
    token,
    deltas,
    ...(previous ? { previous } : {}),
    held: { ...will, token, projects: deltas.map((entry) => entry.project) },
  };
};
