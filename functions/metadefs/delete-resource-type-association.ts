import { apiHandler, reply } from '#shared/http/handler';
import { removeAssociation } from '#shared/metadefs/changes';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { metadefs } from '#shared/runtime';

/** `DELETE /v2/metadefs/namespaces/{namespace_name}/resource_types/{resource_type_name}`: 204. */
export const handler = apiHandler(async ({ caller, path }) => {
  await editNamespace(
    metadefs(),
    caller,
    path.namespace_name ?? '',
    { action: 'remove_metadef_resource_type_association', notFound: NOT_FOUND.short },
    (record) => ({ record: removeAssociation(record, path.resource_type_name ?? ''), result: undefined }),
  );
  return reply(204);
});
