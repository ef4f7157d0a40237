import { depsFromEnv } from '#shared/deps.ts';
import { invocationHandler, timeLeftOf } from '#shared/invocation.ts';
import { reconcile } from '#shared/usecases/reconcile.ts';

/**
 * EventBridge rule target (every 5 minutes): the expiry safety net. It works until little of the invocation's
 * time is left; what it did not reach is still due, and the next run takes it up.
 */
export const handler = invocationHandler('reconcile', async (_event, context) =>
  reconcile(depsFromEnv(), { timeLeft: timeLeftOf(context, 60_000), reserveMs: 5_000 }),
);
