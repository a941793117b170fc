/**
 * `POST /v2/images/{image_id}/locations` (Image API 2.17, docs/locations.md#add-location) and
 * `GET /v2/images/{image_id}/locations`.
 *
 * Checks in this order (the first failure wins; nothing is written before the last one passed):
 *
 *  1. body: an object with `url` (a string) and optionally `validation_data` → 400
 *  2. image invisible → 404 (a `service` caller sees every image)
 *  3. policy `add_image_location` (service role, or admin / owner member) → 403
 *  4. status: the rules' `locationAdd` must apply (`queued`) → 409; formats missing → 400
 *  5. the import lock is held by a live task (another location import) → 409
 *  6. the URL: scheme, S3 allow-list, URI filter and the addresses its host resolves to → 400
 *  7. the lock taken with one conditional write, the `location_import` task created `pending`,
 *     its execution started → 202. A lock write that loses to a concurrent write runs 2-7 again
 *     on the fresh image: of two concurrent adds one finds the other's live lock (409), a PATCH
 *     of the name costs nothing.
 *
 * The image stays `queued` until the workflow has read and verified the data; then `locationAdd`
 * takes it to `active` in one write, or `locationReject` to `killed`.
 */

import { randomUUID } from 'node:crypto';
import type { Caller } from '#shared/auth';
import { BadRequest, Conflict, Forbidden, NotFound } from '#shared/errors';
import { isUuid, loadImageAccess, type VisibleImage } from '#shared/images/access';
import type { ImageLocation, ImageRecord } from '#shared/images/model';
import type { ImageReads } from '#shared/images/repository';
import { LOCK_PROPERTY, lockState, withLock } from '#shared/import/lock';
import { failTask } from '#shared/import/records';
import { type ImportApiDeps, launchTask, lockWithRetry } from '#shared/import/start-import';
import { canAddLocation, canFetchLocations, isService, requireImagePolicy } from '#shared/policy';
import { decideImage, isGone, isTerminalTaskStatus, TransitionRefused } from '#shared/status-rules';
import type { TaskRecord } from '#shared/tasks/model';
import { locationsOf } from './image-locations.ts';
import { checkLocationWithDns, LocationRefused, type LocationSettings, type LocationView } from './url.ts';
import { parseValidationData, type ValidationData } from './validation-data.ts';

/** The import API's dependencies without the object store: a location's data is read by the workflow, not here. */
export interface LocationApiDeps extends Omit<ImportApiDeps, 'store'> {
  readonly locations: LocationSettings;
}

export interface AddLocationRequest {
  readonly url: string;
  readonly validationData: ValidationData | undefined;
}

/** Step 1: the body alone. */
export const parseAddLocationBody = (body: Record<string, unknown>): AddLocationRequest => {
  const unknown = Object.keys(body).filter((key) => key !== 'url' && key !== 'validation_data');
  if (unknown.length > 0) {
    throw new BadRequest(
      `Additional properties are not allowed (${unknown.map((key) => `'${key}'`).join(', ')}).`,
    );
  }
  if (typeof body.url !== 'string' || body.url === '') {
    throw new BadRequest("The request needs a 'url' string, the location of the image data.");
  }
  return { url: body.url, validationData: parseValidationData(body.validation_data) };
};

/** The task input, as Glance's: `{image_id, loc_url, validation_data}`. */
export const locationTaskInput = (imageId: string, request: AddLocationRequest): Record<string, unknown> => ({
  image_id: imageId,
  loc_url: request.url,
  validation_data: request.validationData ?? {},
});

/**
 * The image as `loadVisibleImage` gives it, except that a `service` caller (another OpenStack service acting for a
 * user, as Glance's `role:service` rules intend) sees every image that is not gone.
 */
const loadImageFor = async (
  deps: { readonly images: ImageReads },
  caller: Caller,
  imageId: string,
): Promise<VisibleImage> => {
  if (!isService(caller) || !isUuid(imageId)) return loadImageAccess(deps.images, caller, imageId);
  const image = await deps.images.get(imageId.toLowerCase());
  if (!image || isGone(image.status)) throw new NotFound(`No image found with ID ${imageId}`);
  return { image, membership: null };
};

/** Step 4: the status rules decide, with their error (409, or 400 for missing formats). */
const requireQueued = (image: ImageRecord): void => {
  try {
    decideImage(image, 'locationAdd');
  } catch (error) {
    if (error instanceof TransitionRefused) {
      if (error.error.status === 409) {
        throw new Conflict(`It's not allowed to add locations if image status is ${image.status}.`);
      }
      throw error.error;
    }
    throw error;
  }
};

/** `POST /v2/images/{image_id}/locations`: the `location_import` task, once its execution is started. */
export const requestLocationImport = async (
  deps: LocationApiDeps,
  caller: Caller,
  imageId: string,
  body: Record<string, unknown>,
  requestId?: string,
): Promise<TaskRecord> => {
  const now = deps.now?.() ?? new Date();
  const request = parseAddLocationBody(body);
  const taskId = randomUUID();
  // Checks 2-7, run again on the fresh image if the lock write loses (docs/locations.md#add-location).
  const { image, lock } = await lockWithRetry(async () => {
    const { image, membership } = await loadImageFor(deps, caller, imageId);
    requireImagePolicy(caller, image, canAddLocation, 'add a location to', membership);
    requireQueued(image);

    const lock = await lockState(deps.tasks, image, now);
    if (lock.kind === 'live') throw new Conflict(`Image ${image.id} has active task ${lock.taskId}.`);

    try {
      await checkLocationWithDns(request.url, deps.locations, deps.filter);
    } catch (error) {
      if (error instanceof LocationRefused) throw new BadRequest(`Invalid location: ${error.message}`);
      throw error;
    }

    await deps.images.update(image, { properties: withLock(image, taskId) }, now);
    return { image, lock };
  }, `Image ${imageId} changed while the location was being added (another location import holds ${LOCK_PROPERTY}?); try again.`);
  if (lock.kind === 'stale' && lock.task && !isTerminalTaskStatus(lock.task.status)) {
    await failTask(deps.tasks, lock.task, 'Expired lock preempted', deps.taskTimeToLiveHours).catch(() => {});
  }
  return launchTask(deps, caller, {
    id: taskId,
    type: 'location_import',
    input: locationTaskInput(image.id, request),
    imageId: image.id,
    requestId,
    now,
  });
};

/** `GET /v2/images/{image_id}/locations`: the service role only (`fetch_image_location`). */
export const listLocations = async (
  deps: { readonly images: ImageReads; readonly locations: LocationView },
  caller: Caller,
  imageId: string,
): Promise<ImageLocation[]> => {
  const { image } = await loadImageFor(deps, caller, imageId);
  if (!canFetchLocations(caller)) {
    throw new Forbidden(`You are not authorized to fetch the locations of image ${image.id}.`);
  }
  return locationsOf(image, deps.locations.serviceBucket);
};
