import { apiHandler, reply } from '#shared/http/handler';
import { loadNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { associationView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `GET /v2/metadefs/namespaces/{namespace_name}/resource_types`. */
export const handler = apiHandler(async ({ caller, path }) => {
  const record = await loadNamespace(metadefs(), caller, path.namespace_name ?? '', {
    action: 'list_metadef_resource_types',
    notFound: NOT_FOUND.short,
  });
  return reply(200, { resource_type_associations: record.resource_type_associations.map(associationView) });
});
