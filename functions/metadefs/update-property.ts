import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { updateProperty } from '#shared/metadefs/changes';
import { propertyInput } from '#shared/metadefs/inputs';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { propertyView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/**
 * `PUT /v2/metadefs/namespaces/{namespace_name}/properties/{property_name}`: replaces the
 * definition; a new `name` renames it (409 if taken).
 */
export const handler = apiHandler(async (request) => {
  const { name, definition } = propertyInput(jsonObjectBody(request));
  await editNamespace(
    metadefs(),
    request.caller,
    request.path.namespace_name ?? '',
    { action: 'modify_metadef_property', notFound: NOT_FOUND.short },
    (record) => ({
      record: updateProperty(record, request.path.property_name ?? '', name, definition),
      result: undefined,
    }),
  );
  return reply(200, propertyView(definition, name));
});
