import type { Context } from 'aws-lambda';
import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/log.ts';
import { reconcile } from '#shared/usecases/reconcile.ts';

/**
 * EventBridge rule target (every 5 minutes): the expiry safety net. It works until little of the invocation's
 * time is left; what it did not reach is still due, and the next run takes it up.
 */
export const handler = withRequestId(
  async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>) =>
    reconcile(depsFromEnv(), { timeLeft: () => context?.getRemainingTimeInMillis() ?? 60_000, reserveMs: 5_000 }),
);
