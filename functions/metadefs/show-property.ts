import { NotFound } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { findAssociation, findProperty, unprefixedPropertyName } from '#shared/metadefs/changes';
import { loadNamespace, NOT_FOUND } from '#shared/metadefs/service';
import { propertyView } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/**
 * `GET /v2/metadefs/namespaces/{namespace_name}/properties/{property_name}`; with
 * `?resource_type=X` the name is given with X's prefix.
 */
export const handler = apiHandler(async ({ caller, path, query }) => {
  const record = await loadNamespace(metadefs(), caller, path.namespace_name ?? '', {
    action: 'get_metadef_property',
    notFound: NOT_FOUND.short,
  });
  const asked = path.property_name ?? '';
  const resourceType = query.get('resource_type');
  if (
    resourceType &&
    !findAssociation(record, resourceType) &&
    !(await metadefs().getResourceType(resourceType))
  ) {
    throw new NotFound(`The metadata definition resource-type with name=${resourceType}, was not found.`);
  }
  const name = resourceType ? unprefixedPropertyName(record, asked, resourceType) : asked;
  return reply(200, propertyView(findProperty(record, name), name));
});
