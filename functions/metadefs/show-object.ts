import { apiHandler, reply } from '#shared/http/handler';
import { findObject } from '#shared/metadefs/changes';
import { loadNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { objectView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `GET /v2/metadefs/namespaces/{namespace_name}/objects/{object_name}`. */
export const handler = apiHandler(async ({ caller, path }) => {
  const record = await loadNamespace(metadefs(), caller, path.namespace_name ?? '', {
    action: 'get_metadef_object',
    notFound: NOT_FOUND.detailed,
  });
  return reply(200, objectView(record.namespace, findObject(record, path.object_name ?? '')));
});
