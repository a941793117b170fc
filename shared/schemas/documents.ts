/**
 * The JSON schema documents of `GET /v2/schemas/{image,images,member,members,task,tasks}`
 * (docs/api.md#image-entity), built the way Glance builds them:
 *
 * - `image` / `images` are served "raw" (Glance's PermissiveSchema): name, properties,
 *   `additionalProperties: {"type": "string"}` and links; the collection wraps the raw item schema.
 * - `member`, `members`, `task`, `tasks` are served "minimal": the item schemas have only name and
 *   properties, the collections add `schema` and a `describedby` link.
 *
 * python-glanceclient downloads the image schema, caches it (`~/.glanceclient/image_schema.json`)
 * and builds CLI options from its properties; it also validates every image it updates against it
 * with warlock. Two consequences shape this file:
 *
 * - `stores` is left out. Glance declares it (multi-store only), but the cached schema then makes
 *   the client register `--stores` a second time next to its own `image-create-via-import
 *   --stores` option and argparse aborts. We are single-store, so the field never appears anyway.
 * - Everything an image view carries besides these properties must be a string
 *   (`additionalProperties`), or `glance image-update` fails client-side validation.
 *
 * `locations` and `direct_url` are kept: Glance always declares them (the config options only
 * decide whether views include them) and the client's built-in fallback schema has them too.
 * Operator extensions from `schema-image.json` (kernel_id, os_distro, ...) are not merged: they are
 * deployment configuration, not the base schema.
 */
import { CONTAINER_FORMATS, DISK_FORMATS } from '#shared/images/model';
import {
  IMAGE_STATUS_ENUM,
  MEMBER_STATUS_ENUM,
  TASK_STATUS_ENUM,
  TASK_TYPE_ENUM,
  UUID_PATTERN,
  VISIBILITY_ENUM,
} from './enums.ts';

/** JSON values, for the documents' types. */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

const IMAGE_PROPERTIES: JsonObject = {
  id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
  name: { type: ['null', 'string'], description: 'Descriptive name for the image', maxLength: 255 },
  status: { type: 'string', readOnly: true, description: 'Status of the image', enum: IMAGE_STATUS_ENUM },
  visibility: { type: 'string', description: 'Scope of image accessibility', enum: VISIBILITY_ENUM },
  protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
  os_hidden: {
    type: 'boolean',
    description: 'If true, image will not appear in default image list response.',
  },
  checksum: {
    type: ['null', 'string'],
    readOnly: true,
    description: 'md5 hash of image contents.',
    maxLength: 32,
  },
  os_hash_algo: {
    type: ['null', 'string'],
    readOnly: true,
    description: 'Algorithm to calculate the os_hash_value',
    maxLength: 64,
  },
  os_hash_value: {
    type: ['null', 'string'],
    readOnly: true,
    description: 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo',
    maxLength: 128,
  },
  owner: { type: ['null', 'string'], description: 'Owner of the image', maxLength: 255 },
  size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
  virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of image in bytes' },
  container_format: {
    type: ['null', 'string'],
    description: 'Format of the container',
    enum: [null, ...CONTAINER_FORMATS],
  },
  disk_format: { type: ['null', 'string'], description: 'Format of the disk', enum: [null, ...DISK_FORMATS] },
  created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
  updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last image modification' },
  tags: {
    type: 'array',
    description: 'List of strings related to the image',
    items: { type: 'string', maxLength: 255 },
  },
  direct_url: {
    type: 'string',
    readOnly: true,
    description: 'URL to access the image file kept in external store',
  },
  min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
  min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
  self: { type: 'string', readOnly: true, description: 'An image self url' },
  file: { type: 'string', readOnly: true, description: 'An image file url' },
  schema: { type: 'string', readOnly: true, description: 'An image schema url' },
  locations: {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        url: { type: 'string', maxLength: 255 },
        metadata: { type: 'object' },
        validation_data: {
          description:
            "Values to be used to populate the corresponding image properties. If the image status is not 'queued', values must exactly match those already contained in the image properties.",
          type: 'object',
          writeOnly: true,
          additionalProperties: false,
          properties: {
            checksum: { type: 'string', minLength: 32, maxLength: 32 },
            os_hash_algo: { type: 'string', maxLength: 64 },
            os_hash_value: { type: 'string', maxLength: 128 },
          },
          required: ['os_hash_algo', 'os_hash_value'],
        },
      },
      required: ['url', 'metadata'],
    },
    description: 'A set of URLs to access the image file kept in external store',
  },
};

const MEMBER_PROPERTIES: JsonObject = {
  member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
  image_id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
  created_at: { type: 'string', description: 'Date and time of image member creation' },
  updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
  status: { type: 'string', description: 'The status of this image member', enum: MEMBER_STATUS_ENUM },
  schema: { type: 'string' },
};

const TASK_PROPERTIES: JsonObject = {
  id: { description: 'An identifier for the task', pattern: UUID_PATTERN, type: 'string' },
  type: { description: 'The type of task represented by this content', enum: TASK_TYPE_ENUM, type: 'string' },
  status: { description: 'The current status of this task', enum: TASK_STATUS_ENUM, type: 'string' },
  input: { description: 'The parameters required by task, JSON blob', type: ['null', 'object'] },
  result: { description: 'The result of current task, JSON blob', type: ['null', 'object'] },
  owner: { description: 'An identifier for the owner of this task', type: 'string' },
  message: {
    description: 'Human-readable informative message only included when appropriate (usually on failure)',
    type: 'string',
  },
  image_id: { description: 'Image associated with the task', type: 'string' },
  request_id: { description: 'Human-readable informative request-id', type: 'string' },
  user_id: { description: 'User associated with the task', type: 'string' },
  expires_at: {
    description: 'Datetime when this resource would be subject to removal',
    type: ['null', 'string'],
  },
  created_at: { description: 'Datetime when this resource was created', type: 'string' },
  updated_at: { description: 'Datetime when this resource was updated', type: 'string' },
  self: { readOnly: true, type: 'string' },
  schema: { readOnly: true, type: 'string' },
};

/** Task list entries (`GET /v2/tasks`) leave these out (Glance's partial task schema). */
const TASK_STUB_HIDDEN = new Set(['input', 'result', 'message']);
const TASK_STUB_PROPERTIES: JsonObject = /* @__PURE__ */ Object.fromEntries(
  Object.entries(TASK_PROPERTIES).filter(([key]) => !TASK_STUB_HIDDEN.has(key)),
);

/** `GET /v2/schemas/image`. */
export const IMAGE_SCHEMA: JsonObject = {
  name: 'image',
  properties: IMAGE_PROPERTIES,
  additionalProperties: { type: 'string' },
  links: [
    { rel: 'self', href: '{self}' },
    { rel: 'enclosure', href: '{file}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};

/**
 * Glance's CollectionSchema (raw): the items under `name` (an array of the item schema, or an
 * object of them for a map such as metadefs `properties`), the paging links, and the item's
 * `definitions` moved up to the collection.
 */
export const collectionSchema = (
  name: string,
  item: JsonObject,
  shape: 'array' | 'object' = 'array',
): JsonObject => {
  const { definitions, ...itemWithoutDefinitions } = item;
  return {
    name,
    properties: {
      [name]:
        shape === 'array'
          ? { type: 'array', items: itemWithoutDefinitions }
          : { type: 'object', additionalProperties: itemWithoutDefinitions },
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
    ...(definitions ? { definitions } : {}),
  };
};

/** `GET /v2/schemas/images`: Glance's raw collection schema around the raw image schema. */
export const IMAGES_SCHEMA: JsonObject = /* @__PURE__ */ collectionSchema('images', IMAGE_SCHEMA);

/** `GET /v2/schemas/member` (minimal form: no links, no additionalProperties). */
export const MEMBER_SCHEMA: JsonObject = { name: 'member', properties: MEMBER_PROPERTIES };

/** `GET /v2/schemas/members`. */
export const MEMBERS_SCHEMA: JsonObject = {
  name: 'members',
  properties: { members: { type: 'array', items: MEMBER_SCHEMA }, schema: { type: 'string' } },
  links: [{ rel: 'describedby', href: '{schema}' }],
};

/** `GET /v2/schemas/task` (minimal form). */
export const TASK_SCHEMA: JsonObject = { name: 'task', properties: TASK_PROPERTIES };

/** `GET /v2/schemas/tasks`: the items are the partial (stub) task schema. */
export const TASKS_SCHEMA: JsonObject = {
  name: 'tasks',
  properties: {
    tasks: { type: 'array', items: { name: 'task', properties: TASK_STUB_PROPERTIES } },
    schema: { type: 'string' },
  },
  links: [{ rel: 'describedby', href: '{schema}' }],
};

const DOCUMENTS = {
  image: IMAGE_SCHEMA,
  images: IMAGES_SCHEMA,
  member: MEMBER_SCHEMA,
  members: MEMBERS_SCHEMA,
  task: TASK_SCHEMA,
  tasks: TASKS_SCHEMA,
} as const;

export type SchemaName = keyof typeof DOCUMENTS;
export const SCHEMA_NAMES = /* @__PURE__ */ Object.keys(DOCUMENTS) as SchemaName[];

/**
 * The document for `GET /v2/schemas/{name}`, or undefined (→ 404) for any other name. Own
 * properties only, so `constructor` or `__proto__` never resolve. Each call returns a fresh deep
 * copy: handlers may serialise or decorate it without touching the shared constant.
 */
export const schemaDocument = (name: string): JsonObject | undefined =>
  Object.hasOwn(DOCUMENTS, name) ? structuredClone(DOCUMENTS[name as SchemaName]) : undefined;
