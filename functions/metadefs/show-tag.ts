import { apiHandler, reply } from '#shared/http/handler';
import { findTag } from '#shared/metadefs/changes';
import { loadNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { tagView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `GET /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}` (names match regardless of case). */
export const handler = apiHandler(async ({ caller, path }) => {
  const record = await loadNamespace(metadefs(), caller, path.namespace_name ?? '', {
    action: 'get_metadef_tag',
    notFound: NOT_FOUND.short,
  });
  return reply(200, tagView(findTag(record, path.tag_name ?? '')));
});
