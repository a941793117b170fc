import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { addObject } from '#shared/metadefs/changes';
import { objectInput } from '#shared/metadefs/inputs';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { objectView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `POST /v2/metadefs/namespaces/{namespace_name}/objects`: 201; 409 when the name is taken. */
export const handler = apiHandler(async (request) => {
  const input = objectInput(jsonObjectBody(request));
  const { record, result } = await editNamespace(
    metadefs(),
    request.caller,
    request.path.namespace_name ?? '',
    { action: 'add_metadef_object', notFound: NOT_FOUND.detailed },
    (read, now) => {
      const { record: next, object } = addObject(read, input, now);
      return { record: next, result: object };
    },
  );
  return reply(201, objectView(record.namespace, result));
});
