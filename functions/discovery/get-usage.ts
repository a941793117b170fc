import { apiHandler, reply } from '#shared/http/handler';
import { usageReport } from '#shared/quotas/usage';
import { ledger } from '#shared/runtime';

/**
 * `GET /v2/info/usage`: the caller's project's quotas, as Glance with unified limits answers it
 * (`{"usage": {"image_size_total": {"limit": L, "usage": U}, ...}}`, sizes in MiB, -1 for
 * unlimited; docs/quotas.md#usage).
 */
export const handler = apiHandler(async ({ caller }) => {
  const quota = await ledger().read(caller.projectId);
  return reply(200, usageReport(quota.usage, ledger().limitsOf(quota)));
});
