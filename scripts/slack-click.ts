/**
 * npm run slack:click -- --request <id> --user <slackUserId> --action approve|deny --reason "…" [--channel <id>]
 * Clicks the request's Approve or Deny button and submits the modal, signed exactly as Slack would, against the local
 * runtime (ELEVATE_URL, else http://127.0.0.1:$PORT, PORT 3000) under ELEVATE_SLACK_SIGNING_SECRET (else the local
 * runtime's). Exits 0 when the decision was taken, 1 with Slack's refusal otherwise (infra/local/slack-click.ts).
 */
import { parseArgs } from 'node:util';
import { LOCAL_SLACK_SIGNING_SECRET } from '#infra/local/slack.ts';
import { slackClick } from '#infra/local/slack-click.ts';

const usage =
  'usage: npm run slack:click -- --request <id> --user <slackUserId> --action approve|deny --reason "…" [--channel <id>]';
const { values } = parseArgs({
  options: {
    request: { type: 'string' },
    user: { type: 'string' },
    action: { type: 'string' },
    reason: { type: 'string' },
    channel: { type: 'string' },
  },
});
const { request, user, action, reason, channel } = values;
if (!request || !user || (action !== 'approve' && action !== 'deny') || !reason) {
  console.error(usage);
  process.exit(2);
}
const url = (process.env.ELEVATE_URL ?? `http://127.0.0.1:${process.env.PORT ?? '3000'}`).replace(/\/$/, '');
const outcome = await slackClick({
  url,
  signingSecret: process.env.ELEVATE_SLACK_SIGNING_SECRET || LOCAL_SLACK_SIGNING_SECRET,
  requestId: request,
  user,
  action,
  reason,
  ...(channel ? { channel } : {}),
});
if (outcome.decided) console.log(`${user} ${action === 'approve' ? 'approved' : 'denied'} ${request} in Slack`);
else {
  console.error(`refused: ${outcome.refusal}`);
  process.exit(1);
}
