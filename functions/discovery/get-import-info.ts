import { importInfo } from '#shared/discovery';
import { apiHandler, reply } from '#shared/http/handler';

/** `GET /v2/info/import`: the import methods enabled in single-store mode. */
export const handler = apiHandler(async () => reply(200, importInfo()));
