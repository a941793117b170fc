/**
 * The legacy `/locations` JSON patch (docs/locations.md#legacy-patch), Glance's `show_multiple_locations` behaviour:
 * `add /locations/<n|->`, `replace /locations`, `remove /locations/<n>` on the image's list of locations, which
 * starts with the service's own copy of the data (when it has one) and goes on with the registered ones. A location
 * added to a `queued` image activates it at once (`locationAdd`), with whatever `validation_data` said and no hashing,
 * as in Glance. Pure: the caller checks the added URLs' addresses (DNS) and writes the result.
 */
import type { Caller } from '#shared/auth';
import { BadRequest, Conflict, Forbidden } from '#shared/errors';
import { actorOf } from '#shared/images/access';
import { decideOrRefuse } from '#shared/images/actions';
import { requireWithinBudget } from '#shared/images/budget';
import { withFreshImage } from '#shared/images/edit';
import type { ImageLocation, ImageRecord } from '#shared/images/model';
import { applyPatch, type PatchOperation } from '#shared/images/patch';
import type { ImageChanges, ImageRepository } from '#shared/images/repository';
import { lockHolder } from '#shared/import/lock';
import type { UriFilter } from '#shared/import/uri-filter';
import { canModifyImage, requireImagePolicy } from '#shared/policy';
import { validateImageValue } from '#shared/schemas/image-values';
import { acceptsLegacyLocation, isActive, isQueued } from '#shared/status-rules';
import { locationsOf, ownLocation } from './image-locations.ts';
import { checkLocation, checkLocationWithDns, LocationRefused, type LocationSettings } from './url.ts';
import { type LegacyValidation, legacyValidationData } from './validation-data.ts';

export interface LocationEdit {
  /** The attributes to write: `locations`, and the validation data newly set. */
  readonly changes: ImageChanges;
  /** The image was `queued` and now has a location: write it with `locationAdd`. */
  readonly activate: boolean;
  /** URLs added, whose addresses the caller still checks against the URI filter. */
  readonly added: readonly string[];
}

type Entry = ImageLocation & { readonly validation_data?: unknown };

const sameLocation = (a: ImageLocation, b: ImageLocation): boolean =>
  a.url === b.url && JSON.stringify(a.metadata) === JSON.stringify(b.metadata);

const refusedUrl = (url: unknown, settings: LocationSettings, filter: UriFilter): void => {
  try {
    checkLocation(url, settings, filter);
  } catch (error) {
    if (error instanceof LocationRefused) throw new BadRequest(`Invalid location: ${error.message}`);
    throw error;
  }
};

/** Glance's `_get_locations_op_pos`: `-` is the end; a number is an index (any, for add). */
const positionOf = (position: string | undefined, length: number, forAdd: boolean): number | undefined => {
  if (position === undefined) return undefined;
  let index = forAdd ? length : length - 1;
  if (/^\d+$/.test(position)) index = Number(position);
  else if (position !== '-') return undefined;
  if (!forAdd && !(index >= 0 && index < length)) return undefined;
  return index;
};

const locationValues = (value: unknown): Entry[] =>
  validateImageValue('locations', value).map((entry) => ({ ...entry }) as Entry);

const withoutValidation = ({ url, metadata }: Entry): ImageLocation => ({ url, metadata });

/**
 * Applies the `/locations` operations to the image as read; undefined when nothing changes. Throws Glance's 400, 403
 * and 409 (and 403 for the service's own copy, which cannot be removed or re-described).
 */
export const applyLocationPatch = (
  image: ImageRecord,
  operations: readonly PatchOperation[],
  settings: LocationSettings,
  filter: UriFilter,
): LocationEdit | undefined => {
  if (operations.length === 0) return undefined;
  const own = ownLocation(image, settings.serviceBucket);
  let list: ImageLocation[] = locationsOf(image, settings.serviceBucket);
  const added: string[] = [];
  let validation: LegacyValidation = {};
  const collect = (entries: readonly Entry[]) => {
    const fresh = legacyValidationData({ ...image, ...validation }, entries);
    validation = { ...validation, ...fresh };
  };

  for (const operation of operations) {
    if (operation.op === 'add') {
      if (!acceptsLegacyLocation(image.status)) {
        throw new Conflict(`It's not allowed to add locations if image status is ${image.status}.`);
      }
      const [entry] = locationValues([operation.value]) as [Entry];
      collect([entry]);
      const index = positionOf(operation.position, list.length, true);
      if (index === undefined) throw new BadRequest('Invalid position for adding a location.');
      refusedUrl(entry.url, settings, filter);
      if (list.some((location) => sameLocation(location, entry))) {
        throw new BadRequest(`The location ${entry.url} already exists`);
      }
      list = [...list.slice(0, index), withoutValidation(entry), ...list.slice(index)];
      added.push(entry.url);
    } else if (operation.op === 'replace') {
      // Glance's `_do_replace`, before any other check.
      if (!operation.value || (Array.isArray(operation.value) && operation.value.length === 0)) {
        throw new Forbidden('Cannot set locations to empty list.');
      }
      if (!acceptsLegacyLocation(image.status)) {
        throw new Conflict(`It's not allowed to replace locations if image status is ${image.status}.`);
      }
      const entries = locationValues(operation.value);
      collect(entries);
      const urls = entries.map((entry) => entry.url).sort();
      const current = list.map((location) => location.url).sort();
      const sameUrls = JSON.stringify(urls) === JSON.stringify(current);
      if (list.length > 0 && !sameUrls) {
        throw new BadRequest(
          `Original locations is not empty: ${list.map((location) => location.url).join(', ')}`,
        );
      }
      if (!sameUrls) {
        for (const [index, entry] of entries.entries()) {
          refusedUrl(entry.url, settings, filter);
          if (entries.slice(0, index).some((other) => sameLocation(other, entry))) {
            throw new BadRequest(`The location ${entry.url} already exists`);
          }
          added.push(entry.url);
        }
      }
      const next = entries.map(withoutValidation);
      const ownNow = own && next.find((location) => location.url === own.url);
      if (own && ownNow && !sameLocation(own, ownNow)) {
        throw new Forbidden('The location of the data the service holds cannot be given metadata.');
      }
      list = next;
    } else {
      if (!isActive(image.status)) {
        throw new Conflict(`It's not allowed to remove locations if image status is ${image.status}.`);
      }
      if (list.length === 1) throw new Forbidden('Cannot remove last location in the image.');
      const index = positionOf(operation.position, list.length, false);
      if (index === undefined) throw new BadRequest('Invalid position for removing a location.');
      if (own && list[index]?.url === own.url) {
        throw new Forbidden(
          'The location of the data the service holds cannot be removed; delete the image to remove it.',
        );
      }
      list = list.filter((_, at) => at !== index);
    }
  }

  const registered = list.filter((location) => !own || location.url !== own.url);
  const unchanged =
    JSON.stringify(registered) === JSON.stringify(image.locations ?? []) &&
    Object.keys(validation).length === 0;
  if (unchanged) return undefined;
  return {
    changes: { locations: registered, ...validation },
    activate: isQueued(image.status) && list.length > 0,
    added,
  };
};

/**
 * `PATCH /v2/images/{image_id}` with `show_multiple_locations` on: the `/locations` operations here, every other one
 * by `applyPatch`, all saved in one conditional write (with `locationAdd` when a queued image gets its first
 * location). With the setting off, `/locations` stays reserved (403), as before. A race is retried on the fresh image.
 */
export const patchImage = (
  repository: ImageRepository,
  caller: Caller,
  id: string,
  operations: readonly PatchOperation[],
  settings: LocationSettings,
  filter: UriFilter,
): Promise<ImageRecord> =>
  withFreshImage(repository, caller, id, async (image, membership) => {
    requireImagePolicy(caller, image, canModifyImage, 'modify', membership);
    const ofLocations = settings.showMultipleLocations
      ? operations.filter((operation) => operation.attribute === 'locations')
      : [];
    const changes = applyPatch(
      image,
      operations.filter((operation) => !ofLocations.includes(operation)),
      caller,
    );
    const edit = applyLocationPatch(image, ofLocations, settings, filter);
    if (edit) {
      const holder = lockHolder(image);
      if (holder) throw new Conflict(`Image ${image.id} has active task ${holder}.`);
      for (const url of edit.added) {
        try {
          await checkLocationWithDns(url, settings, filter);
        } catch (error) {
          if (error instanceof LocationRefused) throw new BadRequest(`Invalid location: ${error.message}`);
          throw error;
        }
      }
    }
    const all: ImageChanges = { ...changes, ...edit?.changes };
    if (edit?.activate) {
      // The rules decide on the image as this request leaves it (formats set or cleared by its other
      // operations), and the write is held to the budget like any edit; both before anything is written.
      const patched: ImageRecord = { ...image, ...all };
      const decision = decideOrRefuse(patched, 'locationAdd');
      requireWithinBudget(patched, image);
      return repository.transition(image, decision, {
        actor: actorOf(caller),
        reason: 'location added by PATCH /locations',
        set: all,
      });
    }
    return Object.keys(all).length === 0 ? image : repository.update(image, all);
  });
