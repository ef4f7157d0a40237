import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/http/log.ts';
import { dailyAuditExport, runAuditExport } from '#shared/usecases/exports.ts';

/**
 * Two callers: the EventBridge rule (cron 00:15 UTC) exports the previous UTC day; the exports API function
 * invokes it asynchronously with `{ exportId }` to run an on-demand export.
 */
export const handler = withRequestId(async (event: unknown) => {
  const deps = depsFromEnv();
  const exportId = (event as { exportId?: unknown } | null)?.exportId;
  if (typeof exportId === 'string') {
    const done = await runAuditExport(deps, exportId);
    return { exportId, status: done.status };
  }
  return dailyAuditExport(deps);
});
