import { Forbidden } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { ResponseBudget } from '#shared/http/response-budget';
import { matchesFilters } from '#shared/images/list-query/filters';
import { pageLinks } from '#shared/images/list-query/links';
import { parseListImagesQuery } from '#shared/images/list-query/parse';
import { compareImages } from '#shared/images/list-query/sort';
import { imageListingStore, isIndexOrder, listImages } from '#shared/images/listing';
import type { ImageRecord } from '#shared/images/model';
import { imageView } from '#shared/images/view';
import { canListImages } from '#shared/policy';
import { imageReads, locationView } from '#shared/runtime';

/**
 * `GET /v2/images`: Query on the owner and visibility indexes and the caller's member entries,
 * never a Scan; a page ends early (with `next`) rather than exceed the response limit.
 */
export const handler = apiHandler(async ({ caller, query, event }) => {
  if (!canListImages(caller)) throw new Forbidden('You are not authorized to list images.');
  const parsed = parseListImagesQuery(query);
  const budget = new ResponseBudget();
  // Measured as sent: with show_multiple_locations the locations are part of each entry.
  const view = (image: ImageRecord) => imageView(image, locationView());
  const page = await listImages(imageListingStore(imageReads()), caller, {
    limit: parsed.limit,
    marker: parsed.marker,
    visibility: parsed.visibility,
    memberStatus: parsed.memberStatus,
    indexOrder: isIndexOrder(parsed.sort),
    matches: (image) => matchesFilters(image, parsed),
    compare: (a, b) => compareImages(a, b, parsed.sort),
    admit: (image) => budget.admit(view(image)),
  });
  return reply(200, {
    images: page.images.map(view),
    ...pageLinks('/v2/images', event.rawQueryString ?? '', page.nextMarker),
    schema: '/v2/schemas/images',
  });
});
