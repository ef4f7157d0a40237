import type { Context } from 'aws-lambda';
import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/log.ts';
import { detectDrift } from '#shared/usecases/drift.ts';

/**
 * EventBridge rule target (hourly): assignments of managed permission sets and memberships of managed groups that
 * no live grant backs (alert `assignedOutsideElevate`, or removed in `remove` mode), within the run's time.
 */
export const handler = withRequestId(
  async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>) =>
    detectDrift(depsFromEnv(), { timeLeft: () => context?.getRemainingTimeInMillis() ?? 300_000, reserveMs: 30_000 }),
);
