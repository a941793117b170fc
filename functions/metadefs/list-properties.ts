import { apiHandler, reply } from '#shared/http/handler';
import { loadNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { propertiesView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `GET /v2/metadefs/namespaces/{namespace_name}/properties`: `{"properties": {name: definition}}`. */
export const handler = apiHandler(async ({ caller, path }) => {
  const record = await loadNamespace(metadefs(), caller, path.namespace_name ?? '', {
    action: 'get_metadef_properties',
    notFound: NOT_FOUND.short,
  });
  return reply(200, { properties: propertiesView(record.properties) });
});
