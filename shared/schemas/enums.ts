/**
 * The value sets of Glance's schemas, apart from the documents (./documents.ts) so that validating
 * a value does not bundle the documents of `GET /v2/schemas/*` (docs/benchmarks.md#cold-start).
 */
import { MEMBER_STATUSES } from '#shared/members/model';

/** Image statuses in the order of Glance's schema enum (docs/lifecycle.md#image-statuses). */
export const IMAGE_STATUS_ENUM = [
  'queued',
  'saving',
  'active',
  'killed',
  'deleted',
  'uploading',
  'importing',
  'pending_delete',
  'deactivated',
] as const;

/** Visibility values in the order of Glance's schema enum. */
export const VISIBILITY_ENUM = ['community', 'public', 'private', 'shared'] as const;

/** Member statuses (docs/api.md#members). */
export const MEMBER_STATUS_ENUM = MEMBER_STATUSES;

/** Task statuses (docs/lifecycle.md#task-statuses). */
export const TASK_STATUS_ENUM = ['pending', 'processing', 'success', 'failure'] as const;

/** Task types (docs/lifecycle.md#task-types; `location_import` since 2024.2). */
export const TASK_TYPE_ENUM = ['import', 'api_image_import', 'location_import'] as const;

/** Glance's id pattern for images and tasks (accepts upper-case hex). */
export const UUID_PATTERN =
  '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';
