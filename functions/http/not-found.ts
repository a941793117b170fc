import { refusalOf } from '#shared/auth';
import { isServedVersion, versionsDocument } from '#shared/discovery';
import { NotFound } from '#shared/errors';
import { apiHandler, baseUrlOf, reply } from '#shared/http/handler';

/**
 * Behind the `$default` route, as Glance's version negotiation and router: a path under a version
 * we do not serve (`/v9/images`, `/v1/...`) is a 300 with the versions document, before any token
 * check; an unknown path under `/v2` is a Glance-shaped 404 once the token is good.
 */
export const handler = apiHandler(
  async (request) => {
    const { rawPath, requestContext } = request.event;
    if (!isServedVersion(rawPath)) return reply(300, versionsDocument(baseUrlOf(request)));
    const refusal = refusalOf(requestContext.authorizer);
    if (refusal) throw refusal;
    throw new NotFound(`The resource could not be found: ${rawPath}`);
  },
  { auth: 'deferred' },
);
