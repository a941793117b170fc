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
import { IMAGE_STATUS_ENUM, UUID_PATTERN, VISIBILITY_ENUM } from './enums.ts';

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

/** "expected <what>, got <value>". */
const expected = (what: string, value: unknown): string => `expected ${what}, got ${describeValue(value)}`;

/** Length in characters (code points), as Glance's JSON schema and database columns count it. */
export const charLength = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

// A few checks composed per attribute, each throwing the first problem with where it is. Written
// out rather than taken from a validation library: the rules are few and plain, and a library
// would be most of the size of the functions that validate (docs/benchmarks.md#cold-start).

type Path = readonly (string | number)[];

/** The first problem found: where in the value, and what was expected. */
class Invalid {
  constructor(
    readonly path: Path,
    readonly message: string,
  ) {}
}

type Check<T> = (value: unknown, path: Path) => T;

const invalid = (path: Path, what: string, value: unknown): never => {
  throw new Invalid(path, expected(what, value));
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const nullable =
  <T>(check: Check<T>, what: string): Check<T | null> =>
  (value, path) => {
    if (value === null) return null;
    try {
      return check(value, path);
    } catch (error) {
      if (error instanceof Invalid && error.path === path) invalid(path, what, value);
      throw error;
    }
  };

const text =
  (max?: number): Check<string> =>
  (value, path) => {
    const what = max === undefined ? 'a string' : `a string of at most ${max} characters`;
    if (typeof value !== 'string' || (max !== undefined && charLength(value) > max))
      invalid(path, what, value);
    return value as string;
  };
const nullableText = (max: number) => nullable(text(max), `a string of at most ${max} characters or null`);

const oneOf =
  <const T extends readonly string[]>(values: T): Check<T[number]> =>
  (value, path) => {
    if (typeof value !== 'string' || !values.includes(value))
      invalid(path, `one of ${quoteList(values)}`, value);
    return value as T[number];
  };
const nullOrOneOf = <const T extends readonly string[]>(values: T) =>
  nullable(oneOf(values), `null or one of ${quoteList(values)}`);

const boolean: Check<boolean> = (value, path) => {
  if (typeof value !== 'boolean') invalid(path, 'a boolean (true or false)', value);
  return value as boolean;
};

const integer =
  (what: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Check<number> =>
  (value, path) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      invalid(path, what, value);
    }
    return value as number;
  };
const bootRequirement = integer(`an integer between 0 and ${MAX_DB_INT}`, 0, MAX_DB_INT);
const nullableInteger = nullable(integer('an integer or null'), 'an integer or null');

const arrayOf =
  <T>(item: Check<T>, what: string): Check<T[]> =>
  (value, path) => {
    if (!Array.isArray(value)) invalid(path, what, value);
    return (value as unknown[]).map((element, index) => item(element, [...path, index]));
  };

/**
 * An object with the given fields (absent ones are `undefined` to their checks); `strict` refuses
 * any other key. A non-object, or an unknown key, is reported at the object with `what`.
 */
const object =
  <T extends object>(
    fields: { readonly [K in keyof T]: Check<T[K]> },
    what: string,
    strict = false,
  ): Check<T> =>
  (value, path) => {
    if (!isRecord(value)) invalid(path, what, value);
    const record = value as Record<string, unknown>;
    const checked: Record<string, unknown> = { ...record };
    for (const [key, check] of Object.entries(fields) as [string, Check<unknown>][]) {
      const result = check(record[key], [...path, key]);
      if (result !== undefined) checked[key] = result;
    }
    if (strict && Object.keys(record).some((key) => !Object.hasOwn(fields, key))) invalid(path, what, value);
    return checked as T;
  };

const optional =
  <T>(check: Check<T>): Check<T | undefined> =>
  (value, path) =>
    value === undefined ? undefined : check(value, path);

const validationData = object<NonNullable<LocationValue['validation_data']>>(
  {
    checksum: optional((value, path) => {
      if (typeof value !== 'string' || charLength(value) !== 32)
        invalid(path, 'a string of 32 characters', value);
      return value as string;
    }),
    os_hash_algo: text(64),
    os_hash_value: text(128),
  },
  'an object with only checksum, os_hash_algo and os_hash_value',
  true,
);
const metadata: Check<Record<string, unknown>> = (value, path) => {
  if (!isRecord(value)) invalid(path, 'an object', value);
  return value as Record<string, unknown>;
};
const location = object<LocationValue>(
  { url: text(255), metadata, validation_data: optional(validationData) },
  'an object with url and metadata',
);

const uuid: Check<string> = (value, path) => {
  if (typeof value !== 'string') invalid(path, 'a UUID string', value);
  if (!IMAGE_ID_PATTERN.test(value as string)) {
    invalid(path, 'a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, hexadecimal)', value);
  }
  return value as string;
};

const CHECKS: { readonly [K in keyof ImageValueTypes]: Check<ImageValueTypes[K]> } = {
  id: uuid,
  name: nullableText(LIMITS.nameLength),
  visibility: oneOf(VISIBILITY_ENUM),
  protected: boolean,
  os_hidden: boolean,
  owner: nullableText(255),
  container_format: nullOrOneOf(CONTAINER_FORMATS),
  disk_format: nullOrOneOf(DISK_FORMATS),
  min_disk: bootRequirement,
  min_ram: bootRequirement,
  tags: arrayOf(text(LIMITS.tagLength), 'an array of strings'),
  locations: arrayOf(location, 'an array of locations'),
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

const additionalProperty: Check<string> = (value, path) => {
  if (typeof value !== 'string')
    invalid(path, 'a string (additional properties take string values only)', value);
  return value as string;
};

const isSchemaAttribute = (name: string): name is keyof ImageValueTypes => Object.hasOwn(CHECKS, name);

/** `tags[1]`, `locations[0].metadata`: where in the value the first problem is. */
const pathOf = (path: Path): string =>
  path.reduce<string>(
    (text, part, index) =>
      index === 0 ? String(part) : typeof part === 'number' ? `${text}[${part}]` : `${text}.${part}`,
    '',
  );

const parse = <T>(attribute: string, check: Check<T>, value: unknown): T => {
  try {
    return check(value, [attribute]);
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    throw new BadRequest(`Invalid value for '${pathOf(error.path)}': ${error.message}.`);
  }
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
  const parsed = parse(attribute, CHECKS[attribute] as Check<ImageValue>, value);
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
