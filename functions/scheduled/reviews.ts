import type { Context } from 'aws-lambda';
import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/log.ts';
import { runReviewJob } from '#shared/usecases/review-job.ts';

/**
 * EventBridge rule target (hourly): starts due access-review instances, creates their decision items, reminds
 * halfway, completes, fills defaults and applies. Works until little of the invocation's time is left; the next
 * run continues from each instance's recorded cursor.
 */
export const handler = withRequestId(
  async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>) =>
    runReviewJob(depsFromEnv(), { timeLeft: () => context?.getRemainingTimeInMillis() ?? 900_000 }),
);
