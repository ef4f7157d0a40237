import type { Context } from 'aws-lambda';
import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/log.ts';
import { scanAlerts } from '#shared/usecases/alerts.ts';

/** EventBridge rule target (hourly): the security alerts scan, within the run's time. */
export const handler = withRequestId(
  async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>) =>
    scanAlerts(depsFromEnv(), { timeLeft: () => context?.getRemainingTimeInMillis() ?? 60_000, reserveMs: 10_000 }),
);
