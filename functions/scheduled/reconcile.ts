import { depsFromEnv } from '#shared/deps.ts';
import { reconcile } from '#shared/usecases/reconcile.ts';

/** EventBridge rule target (every 5 minutes): the expiry safety net. */
export const handler = async () => reconcile(depsFromEnv());
