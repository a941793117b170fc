import { apiHandler, reply } from '#shared/http/handler';
import { findTag } from '#shared/metadefs/changes';
import { parseTagListQuery, tagPage } from '#shared/metadefs/listing';
import { loadNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { tagNameView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `GET /v2/metadefs/namespaces/{namespace_name}/tags`: names, with `limit`, `marker` and sorting. */
export const handler = apiHandler(async ({ caller, path, query }) => {
  const parsed = parseTagListQuery(query);
  const record = await loadNamespace(metadefs(), caller, path.namespace_name ?? '', {
    action: 'get_metadef_tags',
    notFound: NOT_FOUND.short,
  });
  const marker = parsed.marker === undefined ? undefined : findTag(record, parsed.marker);
  return reply(200, { tags: tagPage(record.tags, parsed, marker).map(tagNameView) });
});
