/**
 * Value validation for image create bodies and PATCH values (docs/api.md#create, docs/api.md#update): the type and value
 * rules of the image schema (`documents.ts`), plus the two checks Glance makes outside the schema
 * (property names ≤255 characters, `min_disk`/`min_ram` non-negative and within the database's
 * 32-bit column). Every failure is a 400 naming the attribute.
 *
 * Not here: the 403s for read-only and reserved names, policy, quotas (413). Read-only and
 * reserved keys are still type-checked like Glance's schema does, but they are never part of what
 * these functions return, so forgetting the 403 check can never let them through.
 */
import { z } from 'zod';
import { BadRequest } from '#shared/errors';
import {
  type ClientAttribute,
  CONTAINER_FORMATS,
  type ContainerFormat,
  DISK_FORMATS,
  type DiskFormat,
  type ImageRecord,
  isClientAttribute,
  isReservedKey,
  LIMITS,
  READ_ONLY_ATTRIBUTES,
  type Visibility,
} from '#shared/images/model';
import { IMAGE_STATUS_ENUM, UUID_PATTERN, VISIBILITY_ENUM } from './documents.ts';

/** Glance's image id pattern (docs/api.md#image-entity), as a RegExp. */
export const IMAGE_ID_PATTERN = new RegExp(UUID_PATTERN);

/** Largest value of Glance's `min_disk`/`min_ram` integer columns. */
export const MAX_DB_INT = 2_147_483_647;

/** One entry of `locations` (only reachable when locations are exposed; kept schema-complete). */
export interface LocationValue {
  url: string;
  metadata: Record<string, unknown>;
  validation_data?: { checksum?: string; os_hash_algo: string; os_hash_value: string };
  [extra: string]: unknown;
}

/** Validated value type per schema attribute: the record's types plus the view-only fields. */
export interface ImageValueTypes
  extends Pick<
    ImageRecord,
    | ClientAttribute
    | 'id'
    | 'checksum'
    | 'os_hash_algo'
    | 'os_hash_value'
    | 'size'
    | 'virtual_size'
    | 'created_at'
    | 'updated_at'
  > {
  status: (typeof IMAGE_STATUS_ENUM)[number];
  locations: LocationValue[];
  direct_url: string;
  self: string;
  file: string;
  schema: string;
}
export type ImageValue = ImageValueTypes[keyof ImageValueTypes];

/** What a valid create body yields: writable attributes that were present, and properties. */
export interface ValidatedCreateBody {
  id?: string;
  name?: string | null;
  visibility?: Visibility;
  protected?: boolean;
  os_hidden?: boolean;
  owner?: string | null;
  container_format?: ContainerFormat | null;
  disk_format?: DiskFormat | null;
  min_disk?: number;
  min_ram?: number;
  /** De-duplicated, first occurrence order kept (tags have set semantics). */
  tags?: string[];
  /** Additional properties, all strings; reserved and read-only names left out. */
  properties: Record<string, string>;
}

/** Short rendering of a rejected value for messages (never the whole of a huge value). */
export const describeValue = (value: unknown): string => {
  if (value === undefined) return 'no value';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? `'${value}'` : String(value);
  const chars = [...text];
  return chars.length > 60 ? `${chars.slice(0, 57).join('')}...` : text;
};

const quoteList = (values: readonly (string | null)[]): string =>
  values.map((v) => (v === null ? 'null' : `'${v}'`)).join(', ');

/** A zod error customiser: "expected <what>, got <value>". */
const expected =
  (what: string) =>
  (issue: { input?: unknown }): string =>
    `expected ${what}, got ${describeValue(issue.input)}`;

/** Length in characters (code points), as Glance's JSON schema and database columns count it. */
export const charLength = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

const text = (max?: number) => {
  const what = max === undefined ? 'a string' : `a string of at most ${max} characters`;
  const base = z.string({ error: expected(what) });
  return max === undefined
    ? base
    : base.refine((value) => charLength(value) <= max, { error: expected(what) });
};
const nullableText = (max: number) => {
  const what = `a string of at most ${max} characters or null`;
  return z
    .string({ error: expected(what) })
    .refine((value) => charLength(value) <= max, { error: expected(what) })
    .nullable();
};
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: expected(`one of ${quoteList(values)}`) });
const nullOrOneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: expected(`null or one of ${quoteList(values)}`) }).nullable();
const boolean = z.boolean({ error: expected('a boolean (true or false)') });
const bootRequirement = (() => {
  const what = `an integer between 0 and ${MAX_DB_INT}`;
  return z
    .int({ error: expected(what) })
    .min(0, { error: expected(what) })
    .max(MAX_DB_INT, { error: expected(what) });
})();
const nullableInteger = z.int({ error: expected('an integer or null') }).nullable();

const validationData = z.strictObject(
  {
    checksum: z
      .string({ error: expected('a string of 32 characters') })
      .refine((value) => charLength(value) === 32, { error: expected('a string of 32 characters') })
      .optional(),
    os_hash_algo: text(64),
    os_hash_value: text(128),
  },
  { error: expected('an object with only checksum, os_hash_algo and os_hash_value') },
);
const location = z.looseObject(
  {
    url: text(255),
    metadata: z.record(z.string(), z.unknown(), { error: expected('an object') }),
    validation_data: validationData.optional(),
  },
  { error: expected('an object with url and metadata') },
);

const tagsSchema = z.array(text(LIMITS.tagLength), { error: expected('an array of strings') });

const SCHEMAS: { readonly [K in keyof ImageValueTypes]: z.ZodType<ImageValueTypes[K]> } = {
  id: z.string({ error: expected('a UUID string') }).regex(IMAGE_ID_PATTERN, {
    error: expected('a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, hexadecimal)'),
  }),
  name: nullableText(LIMITS.nameLength),
  visibility: oneOf(VISIBILITY_ENUM),
  protected: boolean,
  os_hidden: boolean,
  owner: nullableText(255),
  container_format: nullOrOneOf(CONTAINER_FORMATS),
  disk_format: nullOrOneOf(DISK_FORMATS),
  min_disk: bootRequirement,
  min_ram: bootRequirement,
  tags: tagsSchema,
  locations: z.array(location, { error: expected('an array of locations') }),
  status: oneOf(IMAGE_STATUS_ENUM),
  checksum: nullableText(32),
  os_hash_algo: nullableText(64),
  os_hash_value: nullableText(128),
  size: nullableInteger,
  virtual_size: nullableInteger,
  created_at: text(),
  updated_at: text(),
  direct_url: text(),
  self: text(),
  file: text(),
  schema: text(),
};

const additionalProperty = z.string({
  error: expected('a string (additional properties take string values only)'),
});

const isSchemaAttribute = (name: string): name is keyof ImageValueTypes => Object.hasOwn(SCHEMAS, name);

/** `tags[1]`, `locations[0].metadata`: where in the value the first problem is. */
const pathOf = (attribute: string, path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : `${text}.${String(part)}`),
    attribute,
  );

const parse = <T>(attribute: string, schema: z.ZodType<T>, value: unknown): T => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new BadRequest(
    `Invalid value for '${pathOf(attribute, issue?.path ?? [])}': ${issue?.message ?? 'invalid'}.`,
  );
};

const uniqueTags = (tags: readonly string[]): string[] => [...new Set(tags)];

/** 400 unless a property name fits Glance's 255-character column. */
export const validatePropertyName = (name: string): void => {
  if (charLength(name) > LIMITS.propertyKeyLength) {
    throw new BadRequest(
      `Invalid property name '${[...name].slice(0, 40).join('')}...': custom property names must not be longer than ${LIMITS.propertyKeyLength} characters.`,
    );
  }
};

/**
 * Validates one attribute value the way Glance validates `{attribute: value}` against the image
 * schema for a PATCH `add`/`replace` (docs/api.md#update), and returns it typed. Unknown names are
 * additional properties: string values and names ≤255 characters. `tags` come back de-duplicated.
 * For `add /locations/<n>` pass the single location wrapped in an array (as Glance does).
 */
export function validateImageValue<K extends keyof ImageValueTypes>(
  attribute: K,
  value: unknown,
): ImageValueTypes[K];
export function validateImageValue(attribute: string, value: unknown): ImageValue;
export function validateImageValue(attribute: string, value: unknown): ImageValue {
  if (!isSchemaAttribute(attribute)) {
    validatePropertyName(attribute);
    return parse(attribute, additionalProperty, value);
  }
  const parsed = parse(attribute, SCHEMAS[attribute] as z.ZodType<ImageValue>, value);
  return attribute === 'tags' ? uniqueTags(parsed as string[]) : parsed;
}

const isWritable = (key: string): key is ClientAttribute | 'id' => key === 'id' || isClientAttribute(key);
const isReadOnly = (key: string): boolean => (READ_ONLY_ATTRIBUTES as readonly string[]).includes(key);

/**
 * Validates a `POST /v2/images` body (docs/api.md#create) and returns the attributes it sets. The body must
 * be a JSON object; every schema attribute is checked against its type (400 on the first
 * violation, in body order), every other key is an additional property (string value, name
 * ≤255 characters).
 */
export const validateCreateBody = (body: unknown): ValidatedCreateBody => {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest(
      `Invalid image: the request body must be a JSON object, got ${describeValue(body)}.`,
    );
  }
  const attributes: Record<string, unknown> = {};
  // Collected then built with fromEntries, so a property literally named `__proto__` stays data.
  const properties: [string, string][] = [];
  for (const [key, value] of Object.entries(body)) {
    const checked = validateImageValue(key, value);
    if (isWritable(key)) attributes[key] = checked;
    else if (!isSchemaAttribute(key) && !isReadOnly(key) && !isReservedKey(key)) {
      properties.push([key, checked as string]);
    }
  }
  return { ...attributes, properties: Object.fromEntries(properties) } as ValidatedCreateBody;
};
