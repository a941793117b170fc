import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { renameTag } from '#shared/metadefs/changes';
import { tagRenameInput } from '#shared/metadefs/inputs';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { tagView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `PUT /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}`: renames the tag (409 if taken). */
export const handler = apiHandler(async (request) => {
  const newName = tagRenameInput(jsonObjectBody(request));
  const { result } = await editNamespace(
    metadefs(),
    request.caller,
    request.path.namespace_name ?? '',
    { action: 'modify_metadef_tag', notFound: NOT_FOUND.short },
    (read, now) => {
      const { record, tag } = renameTag(read, request.path.tag_name ?? '', newName, now);
      return { record, result: tag };
    },
  );
  return reply(200, tagView(result));
});
