/**
 * The metadata definitions catalog (docs/metadefs.md): namespaces holding property definitions,
 * objects, tags and resource-type associations, and the global list of resource types.
 *
 * A namespace is one record with everything it holds, so every change to it (a new property, a
 * renamed tag, deleting all objects) is one conditional write of one item.
 */
import type { Json } from '#shared/schemas/documents';

/** Glance's column sizes, which its JSON schemas enforce (characters, not bytes). */
export const METADEF_LIMITS = {
  /** Namespace, object, property, tag and resource-type names; prefixes and properties targets. */
  name: 80,
  displayName: 80,
  description: 500,
  owner: 255,
  /**
   * Serialized size of what a namespace holds (its properties, objects, tags and associations). A
   * namespace is one DynamoDB item, and an item holds at most 400 KB; Glance's largest shipped
   * namespace is about 25 KB.
   */
  contentBytes: 350 * 1024,
} as const;

export const NAMESPACE_VISIBILITIES = ['public', 'private'] as const;
export type NamespaceVisibility = (typeof NAMESPACE_VISIBILITIES)[number];

/** The `type` values a property definition may have (Glance's schema also lists null, which its own `type: string` rules out). */
export const PROPERTY_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];

/**
 * A property definition: a JSON-schema fragment for one image (or volume, flavor...) property.
 * Its name is the key it is stored under. Keys are those of Glance's property model, in its order
 * (views render them in this order).
 */
export interface PropertyDefinition {
  readonly type: PropertyType;
  readonly title: string;
  readonly description?: string;
  readonly operators?: readonly string[];
  readonly default?: Json;
  readonly readonly?: boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly string[];
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly confidential?: boolean;
  readonly items?: { readonly type: PropertyType; readonly enum?: readonly string[] };
  readonly uniqueItems?: boolean;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly additionalItems?: boolean;
}

export const PROPERTY_DEFINITION_KEYS = [
  'type',
  'title',
  'description',
  'operators',
  'default',
  'readonly',
  'minimum',
  'maximum',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'confidential',
  'items',
  'uniqueItems',
  'minItems',
  'maxItems',
  'additionalItems',
] as const satisfies readonly (keyof PropertyDefinition)[];

/**
 * Property definitions by name. Always built with `Object.fromEntries` or `JSON.parse` and read
 * with `Object.hasOwn`, never assigned by key: names are user input (`__proto__` is a valid name).
 */
export type PropertyDefinitions = Readonly<Record<string, PropertyDefinition>>;

export interface MetadefObject {
  readonly name: string;
  readonly description?: string;
  /** Names of the object's properties that are required. */
  readonly required: readonly string[];
  readonly properties: PropertyDefinitions;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface MetadefTag {
  readonly name: string;
  readonly created_at: string;
  readonly updated_at: string;
}

/** Says that a namespace's properties apply to a resource type, optionally under a prefix. */
export interface ResourceTypeAssociation {
  readonly name: string;
  readonly prefix?: string;
  readonly properties_target?: string;
  readonly created_at: string;
  readonly updated_at: string;
}

/** What a namespace holds; stored as one serialized attribute (shared/metadefs/repository.ts). */
export interface NamespaceContent {
  readonly resource_type_associations: readonly ResourceTypeAssociation[];
  readonly properties: PropertyDefinitions;
  readonly objects: readonly MetadefObject[];
  /** In creation order; names are unique regardless of case, as in Glance. */
  readonly tags: readonly MetadefTag[];
}

export interface NamespaceRecord extends NamespaceContent {
  /** Internal and stable across renames; never shown (Glance does not show its ids either). */
  readonly id: string;
  readonly namespace: string;
  readonly display_name?: string;
  readonly description?: string;
  readonly visibility: NamespaceVisibility;
  /** A protected namespace and everything in it cannot be deleted. */
  readonly protected: boolean;
  readonly owner: string;
  readonly created_at: string;
  readonly updated_at: string;
  /** Bumped by every write; every write is conditional on the version it read. */
  readonly version: number;
}

export interface ResourceTypeRecord {
  readonly name: string;
  /** Types seeded from catalog files are protected, those created by an association are not (Glance). */
  readonly protected: boolean;
  readonly created_at: string;
  readonly updated_at: string;
}

/** The part of a record that is content, for the size budget and storage. */
export const contentOf = (record: NamespaceContent): NamespaceContent => ({
  resource_type_associations: record.resource_type_associations,
  properties: record.properties,
  objects: record.objects,
  tags: record.tags,
});

/** UTF-8 bytes of the serialized content: what the item budget counts. */
export const contentBytes = (record: NamespaceContent): number =>
  Buffer.byteLength(JSON.stringify(contentOf(record)), 'utf8');

/** Tag names are unique regardless of case (Glance's database collation). */
export const tagKey = (name: string): string => name.toLowerCase();

/** The value under an own key of a user-keyed map, never an inherited one. */
export const ownValue = <T>(map: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(map, key) ? map[key] : undefined;
