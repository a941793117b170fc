import { allowedMethods } from '#infra/routes';
import { MethodNotAllowed } from '#shared/errors';
import { apiHandler } from '#shared/http/handler';

/** Behind every `ANY {path}` route: Glance's 405 with the methods the path accepts. */
export const handler = apiHandler(
  async ({ event }) => {
    const path = event.routeKey.replace(/^\S+\s+/, '');
    throw new MethodNotAllowed(allowedMethods(path));
  },
  { auth: false },
);
