import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { addAssociation } from '#shared/metadefs/changes';
import { associationInput } from '#shared/metadefs/inputs';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { associationView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/**
 * `POST /v2/metadefs/namespaces/{namespace_name}/resource_types`: 201. An unknown resource type is
 * created with the association (Glance's documented behaviour), after it, so a refused request
 * leaves no type behind.
 */
export const handler = apiHandler(async (request) => {
  const input = associationInput(jsonObjectBody(request));
  const { result } = await editNamespace(
    metadefs(),
    request.caller,
    request.path.namespace_name ?? '',
    { action: 'add_metadef_resource_type_association', notFound: NOT_FOUND.short },
    (record, now) => {
      const { record: next, association } = addAssociation(record, input, now);
      return { record: next, result: association };
    },
  );
  await metadefs().ensureResourceTypes([result.name], { protected: false, now: new Date() });
  return reply(201, associationView(result));
});
