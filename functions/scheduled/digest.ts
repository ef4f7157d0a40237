import type { Context } from 'aws-lambda';
import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/log.ts';
import { weeklyDigest } from '#shared/usecases/digest.ts';

/** EventBridge rule target (Mondays 08:00 UTC): the weekly digest mail to administrators, within the run's time. */
export const handler = withRequestId(
  async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>) =>
    weeklyDigest(depsFromEnv(), { timeLeft: () => context?.getRemainingTimeInMillis() ?? 60_000, reserveMs: 10_000 }),
);
