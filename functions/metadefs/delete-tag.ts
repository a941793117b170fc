import { apiHandler, reply } from '#shared/http/handler';
import { removeTag } from '#shared/metadefs/changes';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { metadefs } from '#shared/runtime';

/** `DELETE /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}`: 204; 403 while protected. */
export const handler = apiHandler(async ({ caller, path }) => {
  await editNamespace(
    metadefs(),
    caller,
    path.namespace_name ?? '',
    { action: 'delete_metadef_tag', notFound: NOT_FOUND.short },
    (record) => ({ record: removeTag(record, path.tag_name ?? ''), result: undefined }),
  );
  return reply(204);
});
