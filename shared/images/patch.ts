/**
 * `PATCH /v2/images/{id}` with `application/openstack-images-v2.1-json-patch` (docs/api.md#update):
 * operations are checked and applied to an in-memory copy; any error aborts the whole request,
 * and the result is saved once by the caller.
 */
import type { Caller } from '#shared/auth';
import { BadRequest, Conflict, Forbidden, UnsupportedMediaType } from '#shared/errors';
import { validateImageValue } from '#shared/schemas/image-values';
import { allowsFormatChange } from '#shared/status-rules';
import { checkPropertyQuota } from './create.ts';
import {
  type ClientAttribute,
  type ImageRecord,
  isClientAttribute,
  isReservedKey,
  READ_ONLY_ATTRIBUTES,
} from './model.ts';
import type { ImageChanges } from './repository.ts';
import { normaliseTags } from './tags.ts';

export const PATCH_MEDIA_TYPE = 'application/openstack-images-v2.1-json-patch';

/** 415 with `Accept-Patch` unless the body is a v2.1 JSON patch. */
export const requirePatchMediaType = (contentType: string | undefined): void => {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== PATCH_MEDIA_TYPE) {
    throw new UnsupportedMediaType(
      `Unsupported Content-Type '${contentType ?? ''}'; use ${PATCH_MEDIA_TYPE}.`,
      {
        headers: { 'Accept-Patch': PATCH_MEDIA_TYPE },
      },
    );
  }
};

export interface PatchOperation {
  readonly op: 'add' | 'remove' | 'replace';
  readonly attribute: string;
  readonly value?: unknown;
}

/** RFC 6901 path of depth one: `/name`, with `~0`/`~1` escapes (400 otherwise). */
const attributeOf = (path: unknown): string => {
  if (typeof path !== 'string') throw new BadRequest("Each operation needs a 'path' string.");
  if (!path.startsWith('/') || path.length === 1)
    throw new BadRequest(`Invalid path '${path}': it must start with '/'.`);
  const segments = path.slice(1).split('/');
  if (segments.some((segment) => segment === ''))
    throw new BadRequest(`Invalid path '${path}': empty segment.`);
  if (segments.some((segment) => /~(?![01])/.test(segment))) {
    throw new BadRequest(`Invalid path '${path}': '~' must be escaped as '~0' or '~1'.`);
  }
  const [first] = segments;
  const attribute = (first ?? '').replaceAll('~1', '/').replaceAll('~0', '~');
  if (segments.length > 1 && attribute !== 'locations') {
    throw new BadRequest(`Invalid path '${path}': nested paths are not allowed.`);
  }
  return attribute;
};

/** Parses the body into operations; a malformed operation is a 400. */
export const parsePatch = (body: unknown): PatchOperation[] => {
  if (!Array.isArray(body)) throw new BadRequest('A JSON patch must be a JSON array of operations.');
  return body.map((raw) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new BadRequest('Each patch operation must be a JSON object.');
    }
    const { op, path } = raw as Record<string, unknown>;
    if (op !== 'add' && op !== 'remove' && op !== 'replace') {
      throw new BadRequest(`Operation '${String(op)}' is not supported: use add, remove or replace.`);
    }
    const attribute = attributeOf(path);
    if (op !== 'remove' && !('value' in raw)) throw new BadRequest(`Operation '${op}' needs a 'value'.`);
    return op === 'remove' ? { op, attribute } : { op, attribute, value: (raw as { value: unknown }).value };
  });
};

const refuseProtected = (attribute: string): void => {
  if ((READ_ONLY_ATTRIBUTES as readonly string[]).includes(attribute)) {
    throw new Forbidden(`Attribute '${attribute}' is read-only.`);
  }
  if (isReservedKey(attribute)) throw new Forbidden(`Attribute '${attribute}' is reserved.`);
};

/** Policy and status rules on base attributes (docs/api.md#update). */
const checkBaseChange = (
  image: ImageRecord,
  caller: Caller,
  attribute: ClientAttribute,
  value: unknown,
): void => {
  if (attribute === 'owner' && !caller.isAdmin && value !== image.owner) {
    throw new Forbidden('Only administrators may change the owner of an image.');
  }
  if (attribute === 'visibility' && value === 'public' && !caller.isAdmin) {
    throw new Forbidden("Only administrators may make an image 'public'.");
  }
  if (
    (attribute === 'disk_format' || attribute === 'container_format') &&
    value !== image[attribute] &&
    !allowsFormatChange(image.status)
  ) {
    throw new Forbidden(`Attribute ${attribute} can be only replaced for a queued image.`);
  }
};

/**
 * Applies the operations to the image as read and returns the attributes to save, or
 * undefined when nothing changes.
 */
export const applyPatch = (
  image: ImageRecord,
  operations: readonly PatchOperation[],
  caller: Caller,
): ImageChanges | undefined => {
  const base: Partial<Pick<ImageRecord, ClientAttribute>> = {};
  const properties = { ...image.properties };
  let propertiesChanged = false;

  for (const { op, attribute, value } of operations) {
    refuseProtected(attribute);
    if (isClientAttribute(attribute)) {
      if (op === 'remove') throw new Forbidden(`Base attribute '${attribute}' cannot be removed.`);
      const checked = validateImageValue(attribute, value);
      checkBaseChange(image, caller, attribute, checked);
      Object.assign(base, {
        [attribute]: attribute === 'tags' ? normaliseTags(checked as string[]) : checked,
      });
      continue;
    }
    const exists = Object.hasOwn(properties, attribute);
    if (op === 'remove' || op === 'replace') {
      if (!exists) throw new Conflict(`Property ${attribute} does not exist.`);
    }
    if (op === 'remove') delete properties[attribute];
    else properties[attribute] = validateImageValue(attribute, value) as string;
    propertiesChanged = true;
  }

  if (propertiesChanged) checkPropertyQuota(properties);
  const changes: ImageChanges = { ...base, ...(propertiesChanged ? { properties } : {}) };
  return Object.keys(changes).length === 0 ? undefined : changes;
};
