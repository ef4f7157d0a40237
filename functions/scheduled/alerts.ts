import { depsFromEnv } from '#shared/deps.ts';
import { invocationHandler, timeLeftOf } from '#shared/invocation.ts';
import { scanAlerts } from '#shared/usecases/alerts.ts';

/** EventBridge rule target (hourly): the security alerts scan, within the run's time. */
export const handler = invocationHandler('alerts', async (_event, context) =>
  scanAlerts(depsFromEnv(), { timeLeft: timeLeftOf(context, 60_000), reserveMs: 10_000 }),
);
