import { depsFromEnv } from '#shared/deps.ts';
import { invocationHandler, timeLeftOf } from '#shared/invocation.ts';
import { runReviewJob } from '#shared/usecases/review-job.ts';

/**
 * EventBridge rule target (hourly): starts due access-review instances, creates their decision items, reminds
 * halfway, completes, fills defaults and applies. Works until little of the invocation's time is left; the next
 * run continues from each instance's recorded cursor.
 */
export const handler = invocationHandler('reviews', async (_event, context) =>
  runReviewJob(depsFromEnv(), { timeLeft: timeLeftOf(context, 900_000) }),
);
