import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { addProperty } from '#shared/metadefs/changes';
import { propertyInput } from '#shared/metadefs/inputs';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { propertyView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `POST /v2/metadefs/namespaces/{namespace_name}/properties`: 201; 409 when the name is taken. */
export const handler = apiHandler(async (request) => {
  const { name, definition } = propertyInput(jsonObjectBody(request));
  await editNamespace(
    metadefs(),
    request.caller,
    request.path.namespace_name ?? '',
    { action: 'add_metadef_property', notFound: NOT_FOUND.short },
    (record) => ({ record: addProperty(record, name, definition), result: undefined }),
  );
  return reply(201, propertyView(definition, name));
});
