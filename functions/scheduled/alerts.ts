import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/http/log.ts';
import { scanAlerts } from '#shared/usecases/alerts.ts';

/** EventBridge rule target (hourly): the security alerts scan. */
export const handler = withRequestId(async () => scanAlerts(depsFromEnv()));
