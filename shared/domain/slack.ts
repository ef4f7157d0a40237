import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { formatMs } from './duration.ts';

/**
 * Slack, the pure half: the request signature Slack puts on every interaction, the interaction payloads Elevate
 * acts on, the modal's binding to one request, one decision and one Slack user, and the Block Kit of a request's
 * message. Nothing here calls Slack (ports/slack.ts) or the table (usecases/slack.ts).
 */

/** How far Slack's request timestamp may lie from the service's clock (Slack's own recommendation: 5 minutes). */
export const SLACK_TIMESTAMP_TOLERANCE_SECONDS = 300;
/** The largest interaction body taken (Slack's payloads of Elevate's small messages are a few KB). */
export const SLACK_MAX_BODY_BYTES = 64 * 1024;

export type SlackRefusal =
  | 'badSignature'
  | 'staleTimestamp'
  | 'malformed'
  | 'unmapped'
  | 'notApprover'
  | 'requester'
  | 'alreadyDecided'
  | 'notFound'
  | 'mfaRequired'
  | 'tamperedModal';

/** What each refusal tells the person in Slack (ephemeral). */
export const REFUSAL_TEXT: Readonly<Record<SlackRefusal, string>> = {
  badSignature: 'The request is not signed by Slack.',
  staleTimestamp: "The request's timestamp is more than 5 minutes off.",
  malformed: 'Elevate could not read this interaction.',
  unmapped: 'Your Slack account is not linked to an Elevate principal: ask an administrator to set your slackUserId.',
  notApprover: 'You are not an approver of the current stage of this request.',
  requester: 'You cannot decide your own request.',
  alreadyDecided: 'This request was already decided.',
  notFound: 'This request does not exist.',
  mfaRequired: 'This decision needs a sign-in with MFA: open the request in the Elevate console.',
  tamperedModal: 'This decision form does not belong to you or to this request.',
};

/**
 * Checks `X-Slack-Signature` (`v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` under the signing secret),
 * compared in constant time, and refuses a timestamp more than 5 minutes from `now` (either side). The timestamp
 * is checked first only in the sense of being a number: a stale one with a valid signature is still refused (a
 * replay), a fresh one with a bad signature too.
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  now: Date;
}): { ok: true } | { ok: false; reason: 'badSignature' | 'staleTimestamp' } {
  const { signingSecret, timestamp, signature, rawBody, now } = input;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || !signature) return { ok: false, reason: 'badSignature' };
  const expected = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(signature, 'utf8');
  // Equal lengths first (timingSafeEqual throws otherwise); the length of a hex digest is no secret.
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, reason: 'badSignature' };
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_TIMESTAMP_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'staleTimestamp' };
  }
  return { ok: true };
}

/** The signature Slack would send for `rawBody` at `timestamp` (the local click script and tests sign with it). */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** A Slack user id (`U…`, or `W…` in an Enterprise Grid). */
export const SlackUserId = z.string().regex(/^[UW][A-Z0-9]{2,30}$/, 'a Slack user id: U or W, then letters and digits');
/** A Slack conversation id (`C…` channel, `G…` private, `D…` direct message). */
export const SlackChannelId = z
  .string()
  .regex(/^[CGD][A-Z0-9]{2,30}$/, 'a Slack channel id: C, G or D, then letters and digits');
const RequestId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export const ACTION_APPROVE = 'elevate.approve';
export const ACTION_DENY = 'elevate.deny';
export const DECISION_CALLBACK = 'elevate.decision';
const JUSTIFICATION_BLOCK = 'justification';

export type Decision = 'Approve' | 'Deny';

/**
 * The parts of Slack's interaction payloads Elevate reads. Slack sends many more fields, which are ignored (not
 * refused: Slack adds fields). Who acted is only ever `user.id`: `user.name`, `message.user` and every other field
 * naming someone are never read.
 */
const User = z.object({ id: SlackUserId });
const BlockActions = z.object({
  type: z.literal('block_actions'),
  user: User,
  trigger_id: z.string().min(1).max(200),
  channel: z.object({ id: SlackChannelId }).optional(),
  actions: z
    .array(z.object({ action_id: z.string().max(255), value: z.string().max(2000).optional() }))
    .min(1)
    .max(5),
});
const ViewSubmission = z.object({
  type: z.literal('view_submission'),
  user: User,
  view: z.object({
    callback_id: z.literal(DECISION_CALLBACK),
    private_metadata: z.string().max(3000),
    state: z.object({
      values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().max(3000).nullish() }))),
    }),
  }),
});

export type Interaction =
  | {
      kind: 'click';
      slackUserId: string;
      requestId: string;
      decision: Decision;
      triggerId: string;
      channel: string | null;
    }
  | {
      kind: 'submit';
      /** The digest of the payload: the same for Slack's retries of this submission. */
      id: string;
      slackUserId: string;
      metadata: string;
      justification: string | null;
    }
  | { kind: 'ignored'; slackUserId: string | null };

/**
 * The interaction in a form-encoded body (`payload=<json>`, exactly one): a click on Approve or Deny, a submission
 * of the decision modal, or something Elevate does not act on (`ignored`). Anything else is `malformed`.
 */
export function parseInteraction(rawBody: string): Interaction | 'malformed' {
  const form = new URLSearchParams(rawBody);
  const payloads = form.getAll('payload');
  if (payloads.length !== 1) return 'malformed';
  let json: unknown;
  try {
    json = JSON.parse(payloads[0] as string);
  } catch {
    return 'malformed';
  }
  const click = BlockActions.safeParse(json);
  if (click.success) {
    const action = click.data.actions.find((a) => a.action_id === ACTION_APPROVE || a.action_id === ACTION_DENY);
    if (!action) return { kind: 'ignored', slackUserId: click.data.user.id };
    const requestId = RequestId.safeParse(action.value);
    if (!requestId.success) return 'malformed';
    return {
      kind: 'click',
      slackUserId: click.data.user.id,
      requestId: requestId.data,
      decision: action.action_id === ACTION_APPROVE ? 'Approve' : 'Deny',
      triggerId: click.data.trigger_id,
      channel: click.data.channel?.id ?? null,
    };
  }
  const submit = ViewSubmission.safeParse(json);
  if (submit.success) {
    const value = submit.data.view.state.values[JUSTIFICATION_BLOCK]?.[JUSTIFICATION_BLOCK]?.value;
    return {
      kind: 'submit',
      id: createHash('sha256')
        .update(payloads[0] as string)
        .digest('hex'),
      slackUserId: submit.data.user.id,
      metadata: submit.data.view.private_metadata,
      justification: value?.trim() ? value.trim() : null,
    };
  }
  // A click or a submission Elevate could not read is malformed; any other kind of interaction is not Elevate's.
  const other = z.object({ type: z.string(), user: User }).safeParse(json);
  if (!other.success || other.data.type === 'block_actions' || other.data.type === 'view_submission')
    return 'malformed';
  return { kind: 'ignored', slackUserId: other.data.user.id };
}

/**
 * The decision modal's `private_metadata`: the request, the decision and the Slack user it was opened for, with an
 * HMAC under the signing secret, so a submission decides exactly what was clicked, by whom it was clicked (a
 * metadata edited to another request, decision or user fails the check).
 */
export function modalMetadata(secret: string, requestId: string, decision: Decision, slackUserId: string): string {
  return JSON.stringify({
    r: requestId,
    d: decision,
    u: slackUserId,
    m: modalMac(secret, requestId, decision, slackUserId),
  });
}

const modalMac = (secret: string, r: string, d: string, u: string): string =>
  createHmac('sha256', secret).update(`elevate-modal:v1:${r}:${d}:${u}`).digest('hex');

const Metadata = z.strictObject({
  r: RequestId,
  d: z.enum(['Approve', 'Deny']),
  u: SlackUserId,
  m: z.string().length(64),
});

/** The request and decision of a submitted modal, if its metadata is Elevate's, for this request and this user. */
export function openModalMetadata(
  secret: string,
  metadata: string,
  slackUserId: string,
): { requestId: string; decision: Decision } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(metadata);
  } catch {
    return undefined;
  }
  const parsed = Metadata.safeParse(json);
  if (!parsed.success || parsed.data.u !== slackUserId) return undefined;
  const { r, d, u, m } = parsed.data;
  const expected = Buffer.from(modalMac(secret, r, d, u), 'utf8');
  const given = Buffer.from(m, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  return { requestId: r, decision: d };
}

/** The modal asking for the justification of a decision (views.open). */
export function decisionModal(input: {
  metadata: string;
  decision: Decision;
  roleId: string;
  principalId: string;
  justificationRequired: boolean;
}) {
  const verb = input.decision === 'Approve' ? 'Approve' : 'Deny';
  return {
    type: 'modal',
    callback_id: DECISION_CALLBACK,
    private_metadata: input.metadata,
    title: { type: 'plain_text', text: `${verb} request` },
    submit: { type: 'plain_text', text: verb },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `${verb} *${escapeMrkdwn(input.principalId)}*'s request for *${escapeMrkdwn(input.roleId)}*?`,
        },
      },
      {
        type: 'input',
        block_id: JUSTIFICATION_BLOCK,
        optional: !input.justificationRequired,
        label: { type: 'plain_text', text: 'Justification' },
        element: { type: 'plain_text_input', action_id: JUSTIFICATION_BLOCK, multiline: true, max_length: 1000 },
      },
    ],
  };
}

/** Text from a person, made inert in mrkdwn (no mentions, links or formatting injected through a justification). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] as string).slice(0, 1000);
}

/** What a request's message shows. */
export interface MessageFacts {
  id: string;
  principalId: string;
  principalName: string | null;
  roleId: string;
  roleName: string;
  scope: string;
  justification: string | null;
  ticket: { system: string; number: string } | null;
  startDateTime: string;
  endDateTime: string | null;
  status: string;
  stages: {
    status: string;
    requiredApprovals: number;
    decisions: { approverId: string; decision: string; justification: string | null }[];
  }[];
  currentStage: number;
  /** The console's page of the request (buttons become links to it when the approver's MFA is required). */
  consoleUrl: string | null;
  /** The policy asks for the approver's MFA: nothing is decided in Slack. */
  requireApproverMfa: boolean;
}

/** The Block Kit message of a request: its facts, the stage and quorum progress, the decisions, and the buttons. */
export function requestMessage(f: MessageFacts): { text: string; blocks: unknown[] } {
  const asked = f.endDateTime ? formatMs(Date.parse(f.endDateTime) - Date.parse(f.startDateTime)) : 'permanent';
  const who = f.principalName ? `${f.principalName} (${f.principalId})` : f.principalId;
  const stage = f.stages[f.currentStage];
  const approvals = stage ? stage.decisions.filter((d) => d.decision === 'Approve').length : 0;
  const progress = stage
    ? `Stage ${f.currentStage + 1} of ${f.stages.length}: ${approvals} of ${stage.requiredApprovals} approvals`
    : `${f.stages.length} stage(s)`;
  const text = `${who} requests ${f.roleName} at ${f.scope}: ${f.status}`;
  const fields = [
    ['Requester', who],
    ['Role', `${f.roleName} (${f.roleId})`],
    ['Scope', f.scope],
    ['Duration', asked],
    ['Justification', f.justification ?? '-'],
    ['Ticket', f.ticket ? `${f.ticket.system} ${f.ticket.number}` : '-'],
  ].map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${escapeMrkdwn(v as string)}` }));
  const decisions = f.stages.flatMap((s, i) =>
    s.decisions.map(
      (d) =>
        `Stage ${i + 1}: ${escapeMrkdwn(d.approverId)} ${d.decision === 'Approve' ? 'approved' : 'denied'}` +
        (d.justification ? `: ${escapeMrkdwn(d.justification)}` : ''),
    ),
  );
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*Access request* \`${f.id}\`` } },
    { type: 'section', fields },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `${f.status} · ${progress}` }] },
  ];
  if (decisions.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: decisions.join('\n') } });
  if (f.status === 'PendingApproval') blocks.push(actionsBlock(f));
  else blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Outcome:* ${f.status}` } });
  return { text, blocks };
}

function actionsBlock(f: MessageFacts) {
  if (f.requireApproverMfa) {
    // Slack cannot prove the approver's MFA: the buttons open the console, where the approver signs in with it.
    const url = f.consoleUrl ?? undefined;
    return {
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Review in Elevate (MFA)' },
          action_id: 'elevate.open',
          ...(url ? { url } : {}),
        },
      ],
    };
  }
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        action_id: ACTION_APPROVE,
        value: f.id,
      },
      {
        type: 'button',
        style: 'danger',
        text: { type: 'plain_text', text: 'Deny' },
        action_id: ACTION_DENY,
        value: f.id,
      },
    ],
  };
}

/** The requester's direct message once the request is decided. */
export function outcomeText(f: Pick<MessageFacts, 'roleName' | 'scope' | 'status' | 'id'>): string {
  return `Your request ${f.id} for ${f.roleName} at ${f.scope} is ${f.status}.`;
}

/** The policy's Slack notifications: a channel (or none) and whether the stage's approvers get direct messages. */
export const SlackNotifications = z
  .strictObject({ channel: SlackChannelId.nullable(), directMessages: z.boolean() })
  .meta({ id: 'SlackNotifications' });
export type SlackNotifications = z.infer<typeof SlackNotifications>;
export const DEFAULT_SLACK_NOTIFICATIONS: SlackNotifications = { channel: null, directMessages: true };
