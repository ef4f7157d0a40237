import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/http/log.ts';
import { reconcile } from '#shared/usecases/reconcile.ts';

/** EventBridge rule target (every 5 minutes): the expiry safety net. */
export const handler = withRequestId(async () => reconcile(depsFromEnv()));
