import { NotFound } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { canReadNamespace, requireAction } from '#shared/metadefs/access';
import { namespaceLinks, namespacePage, parseNamespaceListQuery } from '#shared/metadefs/listing';
import { NOT_FOUND } from '#shared/metadefs/service';
import { namespaceView, SCHEMA_LINKS } from '#shared/metadefs/views';
import { metadefs } from '#shared/runtime';

/**
 * `GET /v2/metadefs/namespaces`: the namespaces the caller may read (public ones and its project's;
 * all for admins), filtered by `visibility` and `resource_types`, sorted and paged.
 */
export const handler = apiHandler(async ({ caller, query, event }) => {
  const parsed = parseNamespaceListQuery(query);
  requireAction(caller, 'get_metadef_namespaces');
  requireAction(caller, 'list_metadef_resource_types');
  const marker = parsed.marker === undefined ? undefined : await metadefs().getNamespace(parsed.marker);
  if (parsed.marker !== undefined && (!marker || !canReadNamespace(caller, marker))) {
    throw new NotFound(NOT_FOUND.detailed(parsed.marker));
  }
  const visible = (await metadefs().listNamespaces()).filter((record) => canReadNamespace(caller, record));
  const page = namespacePage(visible, parsed, marker);
  const links = namespaceLinks(event.rawQueryString ?? '', page.next);
  return reply(200, {
    namespaces: page.namespaces.map((record) => namespaceView(record, 'summary')),
    ...(links.next === undefined ? {} : { next: links.next }),
    schema: SCHEMA_LINKS.namespaces,
    first: links.first,
  });
});
