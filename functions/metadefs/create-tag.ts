import { apiHandler, reply } from '#shared/http/handler';
import { addTag } from '#shared/metadefs/changes';
import { tagNameInput } from '#shared/metadefs/inputs';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { tagView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `POST /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}`: 201; 409 when taken (any case). */
export const handler = apiHandler(async ({ caller, path }) => {
  const name = tagNameInput(path.tag_name ?? '');
  const { result } = await editNamespace(
    metadefs(),
    caller,
    path.namespace_name ?? '',
    { action: 'add_metadef_tag', notFound: NOT_FOUND.short },
    (read, now) => {
      const { record, tag } = addTag(read, name, now);
      return { record, result: tag };
    },
  );
  return reply(201, tagView(result));
});
