import { apiHandler, reply } from '#shared/http/handler';
import { removeProperty } from '#shared/metadefs/changes';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { metadefs } from '#shared/runtime';

/** `DELETE /v2/metadefs/namespaces/{namespace_name}/properties/{property_name}`: 204; 403 while protected. */
export const handler = apiHandler(async ({ caller, path }) => {
  await editNamespace(
    metadefs(),
    caller,
    path.namespace_name ?? '',
    { action: 'remove_metadef_property', notFound: NOT_FOUND.short },
    (record) => ({ record: removeProperty(record, path.property_name ?? ''), result: undefined }),
  );
  return reply(204);
});
