/**
 * `PATCH /v2/images/{id}` (docs/api.md#update) in either of Glance's JSON-patch dialects:
 * operations are parsed by one parser, checked and applied to an in-memory copy; any error aborts
 * the whole request, and the result is saved once by the caller. Error messages are Glance's own.
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

/**
 * The two media types Glance accepts, and the JSON-patch dialect of each: v2.0 is JSON Schema
 * draft 4's (the operation is the key: `{"replace": "/name", "value": "x"}`, what tempest sends),
 * v2.1 draft 10's, i.e. RFC 6902 (`{"op": "replace", "path": "/name", "value": "x"}`).
 */
export const PATCH_MEDIA_TYPES = {
  'application/openstack-images-v2.0-json-patch': 'draft-04',
  'application/openstack-images-v2.1-json-patch': 'draft-10',
} as const;
export type PatchMediaType = keyof typeof PATCH_MEDIA_TYPES;
export type PatchDialect = (typeof PATCH_MEDIA_TYPES)[PatchMediaType];
/** The current one, for documents and examples. */
export const PATCH_MEDIA_TYPE: PatchMediaType = 'application/openstack-images-v2.1-json-patch';

/** `Accept-Patch` lists both, sorted, as Glance does. */
export const ACCEPT_PATCH = /* @__PURE__ */ Object.keys(PATCH_MEDIA_TYPES).sort().join(', ');

/** The dialect of the request's media type; 415 with `Accept-Patch` for any other type. */
export const patchDialect = (contentType: string | undefined): PatchDialect => {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (Object.hasOwn(PATCH_MEDIA_TYPES, mediaType)) return PATCH_MEDIA_TYPES[mediaType as PatchMediaType];
  throw new UnsupportedMediaType(
    `Unsupported Content-Type '${contentType ?? ''}'; use one of: ${ACCEPT_PATCH}.`,
    {
      headers: { 'Accept-Patch': ACCEPT_PATCH },
    },
  );
};

export interface PatchOperation {
  readonly op: Operation;
  readonly attribute: string;
  readonly value?: unknown;
  /** `/locations/<position>`: the second segment (docs/locations.md#legacy-patch). */
  readonly position?: string;
  /** An `add` in the v2.0 media type, which Glance refuses (409) for an attribute already there. */
  readonly addOnly?: true;
}

const OPERATIONS = ['add', 'remove', 'replace'] as const;
type Operation = (typeof OPERATIONS)[number];
const isOperation = (value: unknown): value is Operation => OPERATIONS.includes(value as Operation);

/** How deep a path may go, per root and operation (Glance's `_path_depth_limits`); 1 otherwise. */
const PATH_DEPTH: Readonly<Record<string, Partial<Record<Operation, number>>>> = {
  locations: { add: 2, remove: 2, replace: 1 },
};

/** Draft 10: `op` names the operation and `path` the pointer. */
const draft10 = (raw: Record<string, unknown>): { op: Operation; pointer: unknown } => {
  const { op } = raw;
  const available = OPERATIONS.join(', ');
  if (op === undefined || op === null) {
    throw new BadRequest(
      `Unable to find \`op\` in JSON Schema change. It must be one of the following: ${available}.`,
    );
  }
  if (!isOperation(op)) {
    throw new BadRequest(
      `Invalid operation: \`${String(op)}\`. It must be one of the following: ${available}.`,
    );
  }
  if (!Object.hasOwn(raw, 'path')) throw new BadRequest("Unable to find 'path' in JSON Schema change");
  return { op, pointer: raw.path };
};

/** Draft 4: exactly one member named after an operation, whose value is the pointer. */
const draft4 = (raw: Record<string, unknown>): { op: Operation; pointer: unknown } => {
  const present = OPERATIONS.filter((op) => Object.hasOwn(raw, op));
  if (present.length > 1) {
    throw new BadRequest(
      'Operation objects must contain only one member named "add", "remove", or "replace".',
    );
  }
  const [op] = present;
  if (!op) {
    throw new BadRequest(
      'Operation objects must contain exactly one member named "add", "remove", or "replace".',
    );
  }
  return { op, pointer: raw[op] };
};

/** The JSON pointer forms Glance accepts, decoded into its segments (each trimmed, as Glance does). */
const decodePointer = (pointer: unknown): string[] => {
  if (typeof pointer !== 'string') throw new BadRequest('Pointer must be a string.');
  if (!pointer.startsWith('/')) throw new BadRequest(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1)))
    throw new BadRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/'))
    throw new BadRequest(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === '/') {
    throw new BadRequest(`Pointer \`${pointer}\` does not contains valid token.`);
  }
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) {
    throw new BadRequest(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  }
  return pointer
    .replace(/^\/+/, '')
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~').trim());
};

/**
 * Parses the body into operations in the given dialect; a malformed operation, or one in the
 * other dialect, is a 400 with Glance's message.
 */
export const parsePatch = (body: unknown, dialect: PatchDialect): PatchOperation[] => {
  if (!Array.isArray(body)) throw new BadRequest('Request body must be a JSON array of operation objects.');
  return body.map((raw) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new BadRequest('Operations must be JSON objects.');
    }
    const change = raw as Record<string, unknown>;
    const { op, pointer } = dialect === 'draft-10' ? draft10(change) : draft4(change);
    const path = decodePointer(pointer);
    const attribute = path[0] ?? '';
    // A root pointer (`/`) names no attribute: Glance would take it as a property named ''.
    if (attribute === '' || path.length !== (PATH_DEPTH[attribute]?.[op] ?? 1)) {
      throw new BadRequest(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    }
    const where = path.length === 2 ? { attribute, position: path[1] } : { attribute };
    if (op === 'remove') return { op, ...where };
    if (!Object.hasOwn(change, 'value'))
      throw new BadRequest(`Operation "${op}" requires a member named "value".`);
    return {
      op,
      ...where,
      value: change.value,
      ...(op === 'add' && dialect === 'draft-04' ? { addOnly: true } : {}),
    };
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
  // A Map: a property may be named `__proto__`, which an assignment to an object would not store.
  const properties = new Map(Object.entries(image.properties));
  let propertiesChanged = false;

  for (const { op, attribute, value, addOnly } of operations) {
    refuseProtected(attribute);
    // Glance's `_do_add` in the v2.0 media type: every base attribute is there, and so is a property set.
    if (addOnly && (isClientAttribute(attribute) || properties.has(attribute))) {
      throw new Conflict(`Property ${attribute} already present.`);
    }
    if (isClientAttribute(attribute)) {
      if (op === 'remove') throw new Forbidden(`Base attribute '${attribute}' cannot be removed.`);
      const checked = validateImageValue(attribute, value);
      checkBaseChange(image, caller, attribute, checked);
      Object.assign(base, {
        [attribute]: attribute === 'tags' ? normaliseTags(checked as string[]) : checked,
      });
      continue;
    }
    const exists = properties.has(attribute);
    if (op === 'remove' || op === 'replace') {
      if (!exists) throw new Conflict(`Property ${attribute} does not exist.`);
    }
    if (op === 'remove') properties.delete(attribute);
    else properties.set(attribute, validateImageValue(attribute, value) as string);
    propertiesChanged = true;
  }

  const changed = propertiesChanged ? { properties: Object.fromEntries(properties) } : {};
  if (changed.properties) checkPropertyQuota(changed.properties);
  const changes: ImageChanges = { ...base, ...changed };
  return Object.keys(changes).length === 0 ? undefined : changes;
};
