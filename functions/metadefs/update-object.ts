import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { updateObject } from '#shared/metadefs/changes';
import { objectInput } from '#shared/metadefs/inputs';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { objectView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/**
 * `PUT /v2/metadefs/namespaces/{namespace_name}/objects/{object_name}`: replaces the object; a new
 * `name` renames it (409 if taken).
 */
export const handler = apiHandler(async (request) => {
  const input = objectInput(jsonObjectBody(request));
  const { record, result } = await editNamespace(
    metadefs(),
    request.caller,
    request.path.namespace_name ?? '',
    { action: 'modify_metadef_object', notFound: NOT_FOUND.detailed },
    (read, now) => {
      const { record: next, object } = updateObject(read, request.path.object_name ?? '', input, now);
      return { record: next, result: object };
    },
  );
  return reply(200, objectView(record.namespace, result));
});
