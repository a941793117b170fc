import { apiHandler, reply } from '#shared/http/handler';
import { removeAllTags } from '#shared/metadefs/changes';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { metadefs } from '#shared/runtime';

/** `DELETE /v2/metadefs/namespaces/{namespace_name}/tags`: 204; 403 while protected. */
export const handler = apiHandler(async ({ caller, path }) => {
  await editNamespace(
    metadefs(),
    caller,
    path.namespace_name ?? '',
    { action: 'delete_metadef_namespace', notFound: NOT_FOUND.short },
    (record) => ({ record: removeAllTags(record), result: undefined }),
  );
  return reply(204);
});
