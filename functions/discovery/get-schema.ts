import { NotFound } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { schemaDocument } from '#shared/schemas/documents';

/** `GET /v2/schemas/{schema_name}`: image, images, member, members, task, tasks. */
export const handler = apiHandler(async ({ path }) => {
  const document = schemaDocument(path.schema_name ?? '');
  if (!document) throw new NotFound(`Unknown schema '${path.schema_name}'.`);
  return reply(200, document);
});
