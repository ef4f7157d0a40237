import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/http/log.ts';
import { weeklyDigest } from '#shared/usecases/digest.ts';

/** EventBridge rule target (Mondays 08:00 UTC): the weekly digest mail to administrators. */
export const handler = withRequestId(async () => weeklyDigest(depsFromEnv()));
