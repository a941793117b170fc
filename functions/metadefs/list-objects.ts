import { apiHandler, reply } from '#shared/http/handler';
import { checkObjectListQuery } from '#shared/metadefs/listing';
import { loadNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { objectView, SCHEMA_LINKS } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `GET /v2/metadefs/namespaces/{namespace_name}/objects`: all of them (Glance does not page objects). */
export const handler = apiHandler(async ({ caller, path, query }) => {
  checkObjectListQuery(query);
  const record = await loadNamespace(metadefs(), caller, path.namespace_name ?? '', {
    action: 'get_metadef_objects',
    notFound: NOT_FOUND.detailed,
  });
  return reply(200, {
    objects: record.objects.map((object) => objectView(record.namespace, object)),
    schema: SCHEMA_LINKS.objects,
  });
});
