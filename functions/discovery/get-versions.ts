import { versionsDocument } from '#shared/discovery';
import { apiHandler, baseUrlOf, reply } from '#shared/http/handler';

/** `GET /versions`: the same document with 200. */
export const handler = apiHandler(async (request) => reply(200, versionsDocument(baseUrlOf(request))), {
  auth: false,
});
