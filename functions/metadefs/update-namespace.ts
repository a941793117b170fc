import { apiHandler, jsonObjectBody, reply } from '#shared/http/handler';
import { updateNamespace } from '#shared/metadefs/changes';
import { namespaceUpdateInput } from '#shared/metadefs/inputs';
import { editNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { namespaceView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/**
 * `PUT /v2/metadefs/namespaces/{namespace_name}`: replaces the attributes (a new `namespace`
 * renames it, 409 if taken); what the namespace holds is kept.
 */
export const handler = apiHandler(async (request) => {
  const input = namespaceUpdateInput(jsonObjectBody(request));
  const { record } = await editNamespace(
    metadefs(),
    request.caller,
    request.path.namespace_name ?? '',
    { action: 'modify_metadef_namespace', notFound: NOT_FOUND.short },
    (read, now) => ({
      record: updateNamespace(read, input, request.caller.projectId, now),
      result: undefined,
    }),
  );
  return reply(200, namespaceView(record, 'attributes'));
});
