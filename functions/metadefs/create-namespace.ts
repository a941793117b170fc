import { apiHandler, baseUrlOf, jsonObjectBody, reply } from '#shared/http/handler';
import { requireAction } from '#shared/metadefs/access';
import { newNamespace } from '#shared/metadefs/changes';
import { namespaceCreateInput } from '#shared/metadefs/inputs';
import { namespaceView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/**
 * `POST /v2/metadefs/namespaces`: 201 with `Location`. The body may bring properties, objects,
 * tags and resource-type associations: all are written with the namespace, in one item.
 */
export const handler = apiHandler(async (request) => {
  const input = namespaceCreateInput(jsonObjectBody(request));
  requireAction(request.caller, 'add_metadef_namespace');
  const now = new Date();
  const record = newNamespace(input, request.caller.projectId, now);
  await metadefs().createNamespace(record);
  await metadefs().ensureResourceTypes(
    record.resource_type_associations.map((association) => association.name),
    { protected: false, now },
  );
  return reply(201, namespaceView(record, 'detail'), {
    Location: `${baseUrlOf(request)}/v2/metadefs/namespaces/${encodeURIComponent(record.namespace)}`,
  });
});
