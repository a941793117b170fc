import { apiHandler, reply } from '#shared/http/handler';
import { withResourceTypePrefix } from '#shared/metadefs/changes';
import { checkNamespaceShowQuery } from '#shared/metadefs/listing';
import { loadNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { namespaceView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/**
 * `GET /v2/metadefs/namespaces/{namespace_name}`: everything the namespace holds; with
 * `?resource_type=X`, property names carry the prefix of X's association.
 */
export const handler = apiHandler(async ({ caller, path, query }) => {
  checkNamespaceShowQuery(query);
  const record = await loadNamespace(metadefs(), caller, path.namespace_name ?? '', {
    action: 'get_metadef_namespace',
    notFound: NOT_FOUND.detailed,
  });
  const resourceType = query.get('resource_type');
  return reply(
    200,
    namespaceView(resourceType ? withResourceTypePrefix(record, resourceType) : record, 'detail'),
  );
});
