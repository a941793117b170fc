import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { addTags } from '#shared/metadefs/changes';
import { tagsInput } from '#shared/metadefs/inputs';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { tagNameView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** oslo's `bool_from_string`, which Glance applies to the header. */
const TRUE_STRINGS = new Set(['1', 't', 'true', 'on', 'y', 'yes']);

/**
 * `POST /v2/metadefs/namespaces/{namespace_name}/tags`: replaces all tags with the given ones, or
 * adds them with `X-Openstack-Append: true`; any duplicate fails the whole request (409).
 */
export const handler = apiHandler(async (request) => {
  const names = tagsInput(jsonObjectBody(request));
  const append = TRUE_STRINGS.has((request.headers['x-openstack-append'] ?? '').trim().toLowerCase());
  const { result } = await editNamespace(
    metadefs(),
    request.caller,
    request.path.namespace_name ?? '',
    { action: 'add_metadef_tags', notFound: NOT_FOUND.short },
    (read, now) => {
      const { record, tags } = addTags(read, names, append, now);
      return { record, result: tags };
    },
  );
  return reply(201, { tags: result.map(tagNameView) });
});
