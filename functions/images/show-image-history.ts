import { apiHandler, reply } from '#shared/http/handler';
import { loadImageAccess } from '#shared/images/access';
import { historyPageView, parseHistoryQuery } from '#shared/images/history';
import { canReadImageHistory, requireImagePolicy } from '#shared/policy';
import { imageReads } from '#shared/runtime';

/**
 * `GET /v2/images/{image_id}/history[?limit=&marker=]`: the transitions with actor and reason
 * (decision B1), oldest first, a page at a time with a `next` link; owner project and admins only.
 */
export const handler = apiHandler(async ({ caller, path, query }) => {
  const { limit, after } = parseHistoryQuery(query);
  const { image, membership } = await loadImageAccess(imageReads(), caller, path.image_id ?? '');
  requireImagePolicy(caller, image, canReadImageHistory, 'read the history of', membership);
  const page = await imageReads().historyPage(image, { after, limit });
  return reply(200, historyPageView(image.id, page, limit));
});
