import { apiHandler, reply } from '#shared/http/handler';
import { requireAction } from '#shared/metadefs/access';
import { resourceTypeView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/** `GET /v2/metadefs/resource_types`: every resource type, by name. */
export const handler = apiHandler(async ({ caller }) => {
  requireAction(caller, 'list_metadef_resource_types');
  const types = await metadefs().listResourceTypes();
  return reply(200, { resource_types: types.map(resourceTypeView) });
});
