import { depsFromEnv } from '#shared/deps.ts';
import { invocationHandler, timeLeftOf } from '#shared/invocation.ts';
import { dailyAuditExport, runAuditExport } from '#shared/usecases/exports.ts';

/**
 * Two callers: the EventBridge rule (cron 00:15 UTC) exports the previous UTC day; the exports API function
 * invokes it asynchronously with `{ exportId }` to run an on-demand export. The run works within the invocation's
 * remaining time: a range too long for one run is completed up to where it stopped and continued by a new export.
 */
export const handler = invocationHandler('audit-export', async (event, context) => {
  const deps = depsFromEnv();
  const timeLeft = timeLeftOf(context, 900_000);
  const exportId = (event as { exportId?: unknown } | null)?.exportId;
  if (typeof exportId === 'string') {
    const done = await runAuditExport(deps, exportId, { timeLeft });
    return { exportId, status: done.status };
  }
  return dailyAuditExport(deps, timeLeft);
});
