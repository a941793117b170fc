import { versionsDocument } from '#shared/discovery';
import { apiHandler, baseUrlOf, reply } from '#shared/http/handler';

/** `GET /`: Glance answers 300 Multiple Choices with the versions document. */
export const handler = apiHandler(async (request) => reply(300, versionsDocument(baseUrlOf(request))), {
  auth: false,
});
