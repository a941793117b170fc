import { apiHandler, reply } from '#shared/http/handler';
import { removeAllObjects } from '#shared/metadefs/changes';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { metadefs } from '#shared/runtime';

/** `DELETE /v2/metadefs/namespaces/{namespace_name}/objects`: 204; 403 while protected. */
export const handler = apiHandler(async ({ caller, path }) => {
  await editNamespace(
    metadefs(),
    caller,
    path.namespace_name ?? '',
    { action: 'delete_metadef_namespace', notFound: NOT_FOUND.short },
    (record) => ({ record: removeAllObjects(record), result: undefined }),
  );
  return reply(204);
});
