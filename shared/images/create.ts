/**
 * Creating an image (T1, docs/api.md#create): refuse what a client may not set (403), validate values
 * (400), apply defaults, and start the record in `queued` with its first history entry.
 */
import { randomUUID } from 'node:crypto';
import type { Caller } from '#shared/auth';
import { BadRequest, Forbidden, PayloadTooLarge } from '#shared/errors';
import { canCreateImage } from '#shared/policy';
import { validateCreateBody } from '#shared/schemas/image-values';
import { IMAGE_STATUS } from '#shared/status-rules';
import { actorOf } from './access.ts';
import {
  type ImageAttributes,
  type ImageRecord,
  isReservedKey,
  LIMITS,
  READ_ONLY_ATTRIBUTES,
} from './model.ts';
import { normaliseTags } from './tags.ts';

/** What a create body may carry once validated. */
export interface CreateInput extends Partial<ImageAttributes> {
  readonly id?: string;
}

/** Property quota (docs/lifecycle.md#size-cap-and-quota); reserved `os_glance*` bookkeeping does not count. */
export const checkPropertyQuota = (properties: Record<string, string>): void => {
  const count = Object.keys(properties).filter((key) => !isReservedKey(key)).length;
  if (count > LIMITS.propertyQuota) {
    throw new PayloadTooLarge(
      `Maximum number of properties exceeded: ${count} of ${LIMITS.propertyQuota} allowed.`,
    );
  }
};

/** The whole of `POST /v2/images` before storage: 403 checks, value validation, quotas, record. */
export const imageFromCreateBody = (
  body: Record<string, unknown>,
  caller: Caller,
  now = new Date(),
): ImageRecord => {
  refuseProtectedAttributes(body);
  const input = validateCreateBody(body);
  checkPropertyQuota(input.properties);
  return newImage({ ...input, tags: normaliseTags(input.tags ?? []) }, caller, now);
};

/** 403 for attributes a client may never set at creation (read-only but `id`, reserved, `os_glance*`). */
export const refuseProtectedAttributes = (body: Record<string, unknown>): void => {
  for (const key of Object.keys(body)) {
    if (key !== 'id' && (READ_ONLY_ATTRIBUTES as readonly string[]).includes(key)) {
      throw new Forbidden(`Attribute '${key}' is read-only.`);
    }
    if (isReservedKey(key)) throw new Forbidden(`Attribute '${key}' is reserved.`);
  }
};

/** The new record; the caller's project owns it unless an admin names another owner. */
export const newImage = (input: CreateInput, caller: Caller, now = new Date()): ImageRecord => {
  const owner = input.owner === undefined ? caller.projectId : input.owner;
  if (!canCreateImage(caller, owner)) {
    throw new Forbidden(
      owner === caller.projectId
        ? 'You are not authorized to create images.'
        : `You are not permitted to create images owned by '${owner}'.`,
    );
  }
  if (input.visibility === 'public' && !caller.isAdmin) {
    throw new Forbidden("Only administrators may create 'public' images.");
  }
  const at = now.toISOString();
  const id = input.id?.toLowerCase() ?? randomUUID();
  if (input.id !== undefined && input.id.length === 0) throw new BadRequest('Image id must not be empty.');
  return {
    id,
    name: input.name ?? null,
    status: IMAGE_STATUS.queued,
    visibility: input.visibility ?? 'shared',
    protected: input.protected ?? false,
    os_hidden: input.os_hidden ?? false,
    owner,
    container_format: input.container_format ?? null,
    disk_format: input.disk_format ?? null,
    min_disk: input.min_disk ?? 0,
    min_ram: input.min_ram ?? 0,
    tags: input.tags ?? [],
    properties: input.properties ?? {},
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    size: null,
    virtual_size: null,
    upload: null,
    data_key: null,
    created_at: at,
    updated_at: at,
    version: 1,
    outbox: [
      { version: 1, from: null, to: IMAGE_STATUS.queued, trigger: 'create', actor: actorOf(caller), at },
    ],
    // Recorded by the repository with the reservation of its image_count_total.
    held: null,
  };
};
