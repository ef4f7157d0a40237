import { depsFromEnv } from '#shared/deps.ts';
import { invocationHandler, timeLeftOf } from '#shared/invocation.ts';
import { weeklyDigest } from '#shared/usecases/digest.ts';

/** EventBridge rule target (Mondays 08:00 UTC): the weekly digest mail to administrators, within the run's time. */
export const handler = invocationHandler('digest', async (_event, context) =>
  weeklyDigest(depsFromEnv(), { timeLeft: timeLeftOf(context, 60_000), reserveMs: 10_000 }),
);
