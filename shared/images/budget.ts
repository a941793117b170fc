/**
 * The item budget of an image (docs/configuration.md#item-budget): an image is accepted (created
 * or edited) only if its item stays within `LIMITS.imageRecordBytes` even with every attribute the
 * service may still write during the image's life at its largest: status, hashes, sizes, an upload
 * in flight, its data's key, the latest history entry, a failure reason, the import lock and the
 * quota bookkeeping. So a transition can never fail for size, whatever happens to the image
 * later, and the client's own attributes are what the budget limits.
 *
 * Sizes are counted the way DynamoDB counts them (shared/item-size.ts). Pure: no AWS, no I/O.
 */
import { MAX_IDENTITY_LENGTH } from '#shared/auth';
import { PayloadTooLarge } from '#shared/errors';
import { itemSize, utf8Bytes } from '#shared/item-size';
import { IMAGE_STATUSES, IMAGE_TRIGGER_NAMES } from '#shared/status-rules';
import { uploadKey } from '#shared/storage/bucket';
import {
  createdSortKey,
  imageKey,
  ownerIndexKey,
  PENDING_RESERVATION_PARTITION,
  PENDING_SCRUB_PARTITION,
  PENDING_UPLOAD_PARTITION,
  uploadDeadlineSortKey,
  visibilityIndexKey,
} from '#shared/table';
import {
  FAILURE_REASON_PROPERTY,
  type HistoryEntry,
  type ImageRecord,
  isReservedKey,
  LIMITS,
  VISIBILITIES,
} from './model.ts';

/** Longest identity (user or project id) a token may carry, in characters. */
export const IDENTITY_LENGTH = MAX_IDENTITY_LENGTH;
/**
 * Longest actor recorded, in UTF-16 code units: `user:<id>@project:<id>` with both ids at their
 * longest (two units per character at most); longer ones are clipped.
 */
export const ACTOR_LENGTH = 5 + 9 + 2 * 2 * IDENTITY_LENGTH;
/** Longest S3 multipart upload id the service keeps (S3's are about 100 characters). */
export const MULTIPART_UPLOAD_ID_LENGTH = 1024;
/** Longest `failure` kind recorded with a kill. */
export const FAILURE_KIND_LENGTH = 32;

/**
 * `text` clipped to `max` UTF-16 code units (an ellipsis marks the cut), never splitting a
 * surrogate pair. Every such unit takes at most 3 bytes of UTF-8.
 */
export const clipText = (text: string, max: number): string => {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
};

// The largest value of each kind the service writes: 3-byte characters for clipped free text,
// 4-byte characters for identities, the longest safe integer and ISO time.
const wide = (length: number) => '\u20ac'.repeat(length);
const widest = (length: number) => '\u{10000}'.repeat(length);
const longest = (values: readonly string[]): string =>
  values.reduce((a, b) => (utf8Bytes(b) > utf8Bytes(a) ? b : a), '');
const NUMBER = Number.MAX_SAFE_INTEGER;
const TIME = '2000-01-01T00:00:00.000Z';
const UUID = '00000000-0000-0000-0000-000000000000';
const REASON = wide(LIMITS.reasonLength);
const IDENTITY = widest(IDENTITY_LENGTH);
const ACTOR = wide(ACTOR_LENGTH);

const worstEntry: HistoryEntry = {
  version: NUMBER,
  from: longest(IMAGE_STATUSES) as HistoryEntry['to'],
  to: longest(IMAGE_STATUSES) as HistoryEntry['to'],
  trigger: longest([...IMAGE_TRIGGER_NAMES, 'create']),
  actor: ACTOR,
  at: TIME,
  reason: REASON,
  failure: 'x'.repeat(FAILURE_KIND_LENGTH),
};

/** The bookkeeping properties the service itself may set on an image, at their largest. */
const worstBookkeeping = (): Record<string, string> => ({
  [FAILURE_REASON_PROPERTY]: REASON,
  os_glance_import_task: UUID,
});

/**
 * The largest item `record` can ever become without a client changing it: its client attributes
 * as they are, everything else at its largest.
 */
export const worstCaseItem = (record: ImageRecord): Record<string, unknown> => {
  const { id, owner, created_at } = record;
  const properties = Object.fromEntries(
    Object.entries(record.properties).filter(([key]) => !isReservedKey(key)),
  );
  return {
    ...imageKey(id),
    gsi1pk: ownerIndexKey(owner ?? ''),
    gsi1sk: createdSortKey(created_at, id),
    gsi2pk: visibilityIndexKey(longest(VISIBILITIES)),
    gsi2sk: createdSortKey(created_at, id),
    gsi3pk: longest([PENDING_UPLOAD_PARTITION, PENDING_SCRUB_PARTITION, PENDING_RESERVATION_PARTITION]),
    gsi3sk: uploadDeadlineSortKey(TIME, id),
    ...record,
    status: longest(IMAGE_STATUSES),
    checksum: 'x'.repeat(32),
    os_hash_algo: 'sha512',
    os_hash_value: 'x'.repeat(128),
    size: NUMBER,
    virtual_size: NUMBER,
    updated_at: TIME,
    upload: {
      kind: 'stage',
      key: uploadKey('stage', id, UUID),
      declared_size: NUMBER,
      deadline: TIME,
      multipart_upload_id: 'x'.repeat(MULTIPART_UPLOAD_ID_LENGTH),
      part_size: NUMBER,
      started_at: TIME,
    },
    data_key: uploadKey('stage', id, UUID),
    version: NUMBER,
    // As stored: `[name, value]` pairs (namedPairs, shared/dynamo.ts), a little larger than a map.
    properties: Object.entries({ ...properties, ...worstBookkeeping() }),
    outbox: [worstEntry],
    held: {
      image_size_total: NUMBER,
      image_stage_total: NUMBER,
      image_count_total: 1,
      image_count_uploading: 1,
      token: `${id}/${NUMBER}/${'x'.repeat(16)}`,
      projects: [owner ?? '', IDENTITY],
    },
  };
};

/** Bytes the image may take at most, as counted by `worstCaseItem`. */
export const budgetOf = (record: ImageRecord): number => itemSize(worstCaseItem(record));

/**
 * 413 unless `next` fits the budget: each additional property value within
 * `LIMITS.propertyValueBytes`, the whole within `LIMITS.imageRecordBytes`. A write that does not
 * grow the image (`before` as large or larger) always passes, so the service's own writes never
 * fail on an image stored before these limits.
 */
export const requireWithinBudget = (next: ImageRecord, before?: ImageRecord): void => {
  for (const [key, value] of Object.entries(next.properties)) {
    const bytes = utf8Bytes(value);
    if (bytes > LIMITS.propertyValueBytes && !isReservedKey(key) && before?.properties[key] !== value) {
      throw new PayloadTooLarge(
        `The value of property '${[...key].slice(0, 40).join('')}' takes ${bytes} bytes; at most ${LIMITS.propertyValueBytes} are allowed.`,
      );
    }
  }
  const bytes = budgetOf(next);
  if (bytes > LIMITS.imageRecordBytes && (before === undefined || bytes > budgetOf(before))) {
    throw new PayloadTooLarge(
      `The image would take ${bytes} bytes of storage, more than the ${LIMITS.imageRecordBytes} an image may take ` +
        '(names and values of its attributes, properties and tags, plus room for its status bookkeeping).',
    );
  }
};
