/**
 * A click in Slack, as Slack sends it, against a local runtime (`npm run slack:click`): the `block_actions` of the
 * request's Approve or Deny button, then the `view_submission` of the modal the click opened (found among the Slack
 * stand-in's `views.open` calls) with the reason as its justification. Both are form-encoded `payload=<json>` bodies
 * signed as Slack signs them (`X-Slack-Signature` over `v0:<timestamp>:<body>` under the signing secret), timestamped
 * by the runtime's clock (`GET /_local/clock`). Never deployed.
 */
import { randomUUID } from 'node:crypto';
import { ACTION_APPROVE, ACTION_DENY, DECISION_CALLBACK, slackSignature } from '#shared/domain/slack.ts';
import type { SlackCall, SlackPosted } from './slack.ts';

export const INTERACTIONS_PATH = '/v1/integrations/slack/interactions';

export interface SlackClickOptions {
  /** The local runtime, e.g. http://127.0.0.1:3000. */
  url: string;
  signingSecret: string;
  requestId: string;
  /** The Slack user who clicks (`U…`). */
  user: string;
  action: 'approve' | 'deny';
  reason: string;
  /** The conversation the button is in. @default - the user's direct message with the request's message, else the first message of the request */
  channel?: string;
}

export interface SlackClickOutcome {
  /** True when the modal's submission was taken: the decision is recorded. */
  decided: boolean;
  /** Why Slack would show a refusal: the ephemeral message, the modal's error, or the status of the answer. */
  refusal: string | null;
}

interface StandInView {
  items: SlackPosted[];
  calls: SlackCall[];
}

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Posts one interaction payload, signed as Slack signs it, at the runtime's time. */
export async function postInteraction(
  url: string,
  signingSecret: string,
  payload: unknown,
  timestamp?: string,
): Promise<{ status: number; body: unknown }> {
  const at = timestamp ?? (await runtimeTimestamp(url));
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const response = await fetch(`${url}${INTERACTIONS_PATH}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': at,
      'x-slack-signature': slackSignature(signingSecret, at, body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
    body,
  });
  return { status: response.status, body: await json<unknown>(response) };
}

/** The runtime's clock, in Unix seconds (what Slack's timestamp is compared with). */
async function runtimeTimestamp(url: string): Promise<string> {
  const { now } = await json<{ now: string }>(await fetch(`${url}/_local/clock`));
  return String(Math.floor(Date.parse(now) / 1000));
}

async function standIn(url: string): Promise<StandInView> {
  return json<StandInView>(await fetch(`${url}/_local/slack/messages`));
}

/** Where the user sees the request's buttons: their direct message with it, else the first message of it. */
function channelOf(view: StandInView, requestId: string, user: string): string {
  const ofRequest = view.items.filter((m) => JSON.stringify(m.blocks).includes(`"value":"${requestId}"`));
  const dm = `D${user.slice(1)}`;
  return ofRequest.find((m) => m.channel === dm)?.channel ?? ofRequest[0]?.channel ?? dm;
}

/** Clicks Approve or Deny, then submits the modal with the reason; says whether the decision was taken. */
export async function slackClick(o: SlackClickOptions): Promise<SlackClickOutcome> {
  const before = await standIn(o.url);
  const channel = o.channel ?? channelOf(before, o.requestId, o.user);
  const triggerId = `${Date.now()}.${randomUUID()}`;
  const user = { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: 'T0LOCAL' };
  const click = await postInteraction(o.url, o.signingSecret, {
    type: 'block_actions',
    user,
    api_app_id: 'A0LOCAL',
    token: 'deprecated-verification-token',
    container: { type: 'message', channel_id: channel, is_ephemeral: false },
    trigger_id: triggerId,
    team: { id: 'T0LOCAL', domain: 'local' },
    channel: { id: channel, name: 'directmessage' },
    actions: [
      {
        type: 'button',
        action_id: o.action === 'approve' ? ACTION_APPROVE : ACTION_DENY,
        block_id: 'actions',
        value: o.requestId,
        action_ts: String(Date.now() / 1000),
      },
    ],
  });
  if (click.status !== 200) return { decided: false, refusal: `HTTP ${click.status}: ${JSON.stringify(click.body)}` };
  const after = await standIn(o.url);
  const opened = after.calls.find((c) => c.method === 'views.open' && c.args.trigger_id === triggerId);
  if (!opened) {
    const told = after.calls
      .slice(before.calls.length)
      .find((c) => c.method === 'chat.postEphemeral' && c.args.user === o.user);
    return { decided: false, refusal: told ? String(told.args.text) : 'no modal opened' };
  }
  const view = opened.args.view as { private_metadata?: string; callback_id?: string };
  const submit = await postInteraction(o.url, o.signingSecret, {
    type: 'view_submission',
    user,
    api_app_id: 'A0LOCAL',
    team: { id: 'T0LOCAL', domain: 'local' },
    trigger_id: `${Date.now()}.${randomUUID()}`,
    view: {
      id: 'V0LOCAL',
      type: 'modal',
      callback_id: view.callback_id ?? DECISION_CALLBACK,
      private_metadata: view.private_metadata ?? '',
      state: { values: { justification: { justification: { type: 'plain_text_input', value: o.reason } } } },
    },
  });
  const body = submit.body as { response_action?: string; errors?: Record<string, string> } | undefined;
  if (submit.status === 200 && body?.response_action === 'clear') return outcomeAfter(o, after.calls.length);
  return {
    decided: false,
    refusal: body?.errors ? Object.values(body.errors).join(' ') : `HTTP ${submit.status}: ${JSON.stringify(body)}`,
  };
}

/** How long a decision made after the answer may take to show in Slack before the click gives up on it. */
const DECISION_WAIT_MS = 30_000;

/**
 * A submission answered `clear` is decided after the answer (the function's asynchronous run): the outcome is what
 * Slack then shows, a message of the request updated (decided) or a direct message to the user with the reason.
 */
async function outcomeAfter(o: SlackClickOptions, seen: number): Promise<SlackClickOutcome> {
  const deadline = Date.now() + DECISION_WAIT_MS;
  while (Date.now() < deadline) {
    const calls = (await standIn(o.url)).calls.slice(seen);
    const told = calls.find(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.args.channel === o.user &&
        String(c.args.text).endsWith(`(request ${o.requestId})`),
    );
    if (told) return { decided: false, refusal: String(told.args.text).replace(/ \(request [^)]*\)$/, '') };
    if (calls.some((c) => c.method === 'chat.update' && JSON.stringify(c.args).includes(o.requestId))) {
      return { decided: true, refusal: null };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { decided: false, refusal: `nothing shown in Slack ${DECISION_WAIT_MS / 1000} s after the submission` };
}
