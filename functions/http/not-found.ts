import { NotFound } from '#shared/errors';
import { apiHandler } from '#shared/http/handler';

/** Behind the `$default` route: an unknown path is a Glance-shaped 404, not API Gateway's own. */
export const handler = apiHandler(
  async ({ event }) => {
    throw new NotFound(`The resource could not be found: ${event.rawPath}`);
  },
  { auth: false },
);
