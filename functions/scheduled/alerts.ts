import { depsFromEnv } from '#shared/deps.ts';
import { scanAlerts } from '#shared/usecases/alerts.ts';

/** EventBridge rule target (hourly): the security alerts scan. */
export const handler = async () => scanAlerts(depsFromEnv());
