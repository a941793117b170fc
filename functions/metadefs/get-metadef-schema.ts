import { NotFound } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { metadefSchemaDocument } from '#shared/metadefs/schemas';

/** `GET /v2/schemas/metadefs/{schema_name}`: the ten metadefs schemas (namespace, namespaces, ...). */
export const handler = apiHandler(async ({ path }) => {
  const document = metadefSchemaDocument(path.schema_name ?? '');
  if (!document) throw new NotFound(`Unknown schema 'metadefs/${path.schema_name}'.`);
  return reply(200, document);
});
