import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/log.ts';
import { recordMailFeedback } from '#shared/usecases/mail-feedback.ts';

/**
 * EventBridge rule target (default bus, source `aws.ses`: the configuration set's bounce and complaint events):
 * records the suppression of each address SES reported a permanent bounce or a complaint for. An event that does
 * not parse is logged and answered (retrying it would not change it); a failed write throws, so EventBridge and
 * Lambda retry it and then hand it to the dead-letter queue.
 */
export const handler = withRequestId(async (event: unknown) => recordMailFeedback(depsFromEnv(), event));
