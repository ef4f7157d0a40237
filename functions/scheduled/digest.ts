import { depsFromEnv } from '#shared/deps.ts';
import { weeklyDigest } from '#shared/usecases/digest.ts';

/** EventBridge rule target (Mondays 08:00 UTC): the weekly digest mail to administrators. */
export const handler = async () => weeklyDigest(depsFromEnv());
