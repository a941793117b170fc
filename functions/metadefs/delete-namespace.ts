import { apiHandler, reply } from '#shared/http/handler';
import { requireUnprotected } from '#shared/metadefs/changes';
import { deleteNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { metadefs } from '#shared/runtime';

/** `DELETE /v2/metadefs/namespaces/{namespace_name}`: 204, with all it holds; 403 while protected. */
export const handler = apiHandler(async ({ caller, path }) => {
  await deleteNamespace(
    metadefs(),
    caller,
    path.namespace_name ?? '',
    { action: 'delete_metadef_namespace', notFound: NOT_FOUND.short },
    requireUnprotected,
  );
  return reply(204);
});
