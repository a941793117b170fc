/**
 * The stored image record and the vocabularies of its fields (docs/api.md#image-entity). The record is what
 * DynamoDB holds; `view.ts` turns it into the Glance entity.
 */
import type { HeldUsage } from '#shared/quotas/usage';
import type { ImageStatus } from '#shared/status-rules';

export const VISIBILITIES = ['public', 'community', 'shared', 'private'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export const DISK_FORMATS = [
  'ami',
  'ari',
  'aki',
  'vhd',
  'vhdx',
  'vmdk',
  'raw',
  'qcow2',
  'vdi',
  'iso',
  'ploop',
] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export type ContainerFormat = (typeof CONTAINER_FORMATS)[number];

/**
 * One recorded transition (decision B1). The newest is kept in the image item (`outbox`), every
 * one in its own history item (docs/lifecycle.md#history).
 */
export interface HistoryEntry {
  /** The image version the transition wrote: orders the entries and keys their items. */
  readonly version: number;
  readonly from: ImageStatus | null;
  readonly to: ImageStatus;
  readonly trigger: string;
  /** `user:<id>@project:<id>`, or `system:<component>` for triggers, sweeper and workflow. */
  readonly actor: string;
  readonly at: string;
  readonly reason?: string;
  /** For a kill: what was wrong with the data (`size-mismatch`, `too-large`, `quota`, `format`). */
  readonly failure?: string;
}

/** Base attributes a client may set (subject to the rules in patch/create). */
export interface ImageAttributes {
  name: string | null;
  visibility: Visibility;
  protected: boolean;
  os_hidden: boolean;
  owner: string | null;
  container_format: ContainerFormat | null;
  disk_format: DiskFormat | null;
  min_disk: number;
  min_ram: number;
  tags: string[];
  /** Additional properties: string values only (docs/api.md#image-entity). Includes `os_glance_*` bookkeeping. */
  properties: Record<string, string>;
}

/**
 * An upload in flight (decisions D2, D5): the one object key the issued URL names, so the S3
 * trigger can tell the expected object from a stale or foreign one, and the deadline after
 * which the sweeper gives up on it.
 */
export interface PendingUpload {
  readonly kind: 'file' | 'stage';
  readonly key: string;
  readonly declared_size: number | null;
  /** URL expiry plus grace, ISO time. */
  readonly deadline: string;
  readonly multipart_upload_id?: string;
  /** Multipart only: every part but the last has this size; the part count follows from the size. */
  readonly part_size?: number;
  /** When the upload was started (ISO time); bounds a multipart upload's deadline (shared/uploads/lifetime.ts). */
  readonly started_at?: string;
}

/**
 * Where an image's data lives outside the service's own keys (docs/locations.md): an `s3://` object in an allowed
 * prefix or an `http(s)://` URL. The service never writes or deletes it.
 */
export interface ImageLocation {
  readonly url: string;
  readonly metadata: Record<string, unknown>;
}

/** The stored record. */
export interface ImageRecord extends ImageAttributes {
  id: string;
  status: ImageStatus;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  size: number | null;
  virtual_size: number | null;
  /** Stored with milliseconds for ordering; rendered without them. */
  created_at: string;
  updated_at: string;
  /** The upload being waited for, if any. */
  upload: PendingUpload | null;
  /** S3 key of the image's data (staged data while `uploading`), once it arrived. */
  data_key: string | null;
  /** Locations the data was registered at (docs/locations.md); absent or empty for data the service holds. */
  locations?: ImageLocation[];
  /** Optimistic-concurrency counter; every write is conditional on it. */
  version: number;
  /**
   * The entry of the latest transition (creation included), written by that transition's own
   * conditional update; the next transition writes it to its history item before replacing it.
   */
  outbox: HistoryEntry[];
  /** What the image holds of its owner's quotas (docs/quotas.md#held-usage); null without an owner. */
  held: HeldUsage | null;
}

/** Base attributes a client may write (create and PATCH); `id` is writable at creation only. */
export const CLIENT_ATTRIBUTES = [
  'name',
  'visibility',
  'protected',
  'os_hidden',
  'owner',
  'container_format',
  'disk_format',
  'min_disk',
  'min_ram',
  'tags',
] as const satisfies readonly (keyof ImageAttributes)[];
export type ClientAttribute = (typeof CLIENT_ATTRIBUTES)[number];
export const isClientAttribute = (key: string): key is ClientAttribute =>
  (CLIENT_ATTRIBUTES as readonly string[]).includes(key);

/** Base attribute names, in Glance's view order. */
export const BASE_ATTRIBUTES = [
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'os_hidden',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'owner',
  'size',
  'virtual_size',
  'container_format',
  'disk_format',
  'min_disk',
  'min_ram',
  'created_at',
  'updated_at',
  'tags',
] as const;

/** Attributes a client can never write (403 on create and PATCH). */
export const READ_ONLY_ATTRIBUTES = [
  'created_at',
  'updated_at',
  'status',
  'checksum',
  'size',
  'virtual_size',
  'direct_url',
  'self',
  'file',
  'schema',
  'id',
  'os_hash_algo',
  'os_hash_value',
  'stores',
] as const;

/** Reserved names (403), besides any `os_glance*` key. */
export const RESERVED_ATTRIBUTES = ['location', 'locations', 'deleted', 'deleted_at'] as const;

export const isReservedKey = (key: string): boolean =>
  key.startsWith('os_glance') || (RESERVED_ATTRIBUTES as readonly string[]).includes(key);

/**
 * Why an image is `killed` (decision D1). A reserved property, so clients can read it in every
 * Glance client but never write it.
 */
export const FAILURE_REASON_PROPERTY = 'os_glance_failure_reason';

/** Bookkeeping properties hidden from every response (docs/lifecycle.md#reserved-properties). */
export const HIDDEN_PROPERTIES = ['os_glance_stage_host', 'os_glance_hash_op_host'] as const;

/** Default and maximum quotas and sizes (docs/lifecycle.md#size-cap-and-quota, docs/configuration.md#item-budget). */
export const LIMITS = {
  nameLength: 255,
  propertyKeyLength: 255,
  tagLength: 255,
  propertyQuota: 128,
  tagQuota: 128,
  /** UTF-8 bytes of one additional property's value (Glance's column is a 64 KB TEXT). */
  propertyValueBytes: 65_535,
  /**
   * Bytes an image item may take in DynamoDB, counted with every attribute the service may still
   * add during the image's life at its largest (shared/images/budget.ts).
   */
  imageRecordBytes: 262_144,
  /** Characters of a transition reason or failure reason; longer ones are clipped. */
  reasonLength: 2000,
} as const;
