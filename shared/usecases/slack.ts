import type { Caller } from '../auth/caller.ts';
import type { Deps } from '../deps.ts';
import { decisionRefusal, mayDecide } from '../domain/approval.ts';
import { SYSTEM_ACTOR } from '../domain/audit.ts';
import { DomainError } from '../domain/errors.ts';
import { approverMfaRequired } from '../domain/policy.ts';
import { userRef } from '../domain/primitives.ts';
import {
  type Decision,
  decisionModal,
  modalMetadata,
  openModalMetadata,
  parseInteraction,
  REFUSAL_TEXT,
  SLACK_MAX_BODY_BYTES,
  type SlackRefusal,
  verifySlackSignature,
} from '../domain/slack.ts';
import { log as defaultLog, errorFields, type Log } from '../log.ts';
import type { Slack } from '../ports/slack.ts';
import { keys, ops, stored } from '../store/records.ts';
import { decideRequest } from './approvals.ts';
import { auditEvent, CallContext } from './context.ts';
import { readRequest, targetOf } from './request-records.ts';
import { policyOfRequest } from './roles.ts';
import { approverFacts, auditRefusal } from './visibility.ts';

/** What the endpoint answers Slack: its status and body (JSON, or nothing), or a refusal (problem+json). */
export type SlackAnswer = { status: number; body?: unknown } | { refused: DomainError };

export interface SlackCall {
  /** The request's headers, names in lower case (as API Gateway hands them). */
  headers: Readonly<Record<string, string | undefined>>;
  /** The raw body, exactly as Slack sent it (the signature is over these bytes). */
  rawBody: string;
}

const OK: SlackAnswer = { status: 200 };

/**
 * POST /v1/integrations/slack/interactions: an interaction Slack signed (no bearer token). A click on Approve or
 * Deny opens the decision modal; its submission decides through the very use case of POST /v1/requests/{id}/approve
 * and /deny (approver of the current stage, never the requester, quorum, one winner under races), audited with
 * `channel: "slack"`. Every refusal is audited; a signed one is answered in Slack with its reason (ephemeral, or in
 * the modal); an unsigned one (bad signature, stale timestamp) only with a status, since nothing in it can be trusted.
 */
export async function handleSlackInteraction(deps: Deps, call: SlackCall, log: Log = defaultLog): Promise<SlackAnswer> {
  const slack = deps.slack;
  if (!slack) return { refused: new DomainError('NotFound', 'Slack is not configured') };
  if (Buffer.byteLength(call.rawBody) > SLACK_MAX_BODY_BYTES) {
    await auditUnsigned(deps, 'malformed', { bytes: Buffer.byteLength(call.rawBody) });
    return { refused: new DomainError('PayloadTooLarge', `the body is larger than ${SLACK_MAX_BODY_BYTES} bytes`) };
  }
  const { signingSecret } = await slack.credentials();
  const verified = verifySlackSignature({
    signingSecret,
    timestamp: call.headers['x-slack-request-timestamp'],
    signature: call.headers['x-slack-signature'],
    rawBody: call.rawBody,
    now: deps.clock.now(),
  });
  if (!verified.ok) {
    await auditUnsigned(deps, verified.reason, {});
    return { refused: new DomainError('Unauthenticated', REFUSAL_TEXT[verified.reason]) };
  }
  const interaction = parseInteraction(call.rawBody);
  if (interaction === 'malformed') {
    await auditUnsigned(deps, 'malformed', {});
    return { refused: new DomainError('ValidationFailed', REFUSAL_TEXT.malformed) };
  }
  if (interaction.kind === 'ignored') return OK;
  const principalId = await principalOfSlackUser(deps, interaction.slackUserId);
  if (interaction.kind === 'click') {
    const tell = (reason: SlackRefusal, extra = '') =>
      interaction.channel
        ? slack
            .postEphemeral(interaction.channel, interaction.slackUserId, REFUSAL_TEXT[reason] + extra)
            .catch((error: unknown) => log('warn', 'Slack chat.postEphemeral failed', errorFields(error)))
        : Promise.resolve();
    if (!principalId) {
      await auditUnsigned(deps, 'unmapped', { slackUserId: interaction.slackUserId, requestId: interaction.requestId });
      await tell('unmapped');
      return OK;
    }
    const refusal = await clickRefusal(deps, slack, principalId, interaction, signingSecret, log);
    if (refusal) await tell(refusal.reason, refusal.extra);
    return OK;
  }
  // A submission of the decision modal.
  const opened = openModalMetadata(signingSecret, interaction.metadata, interaction.slackUserId);
  if (!opened) {
    await auditUnsigned(deps, 'tamperedModal', { slackUserId: interaction.slackUserId });
    return modalError('tamperedModal');
  }
  if (!principalId) {
    await auditUnsigned(deps, 'unmapped', { slackUserId: interaction.slackUserId, requestId: opened.requestId });
    return modalError('unmapped');
  }
  const ctx = await slackCtx(deps, principalId, log);
  const refusal = await decide(ctx, opened.requestId, opened.decision, interaction.justification);
  return refusal ? modalError(refusal) : { status: 200, body: { response_action: 'clear' } };
}

const modalError = (reason: SlackRefusal): SlackAnswer => ({
  status: 200,
  body: { response_action: 'errors', errors: { justification: REFUSAL_TEXT[reason] } },
});

/** The principal a Slack user is linked to (strongly consistent: an unlink takes effect at once), or null. */
async function principalOfSlackUser(deps: Deps, slackUserId: string): Promise<string | null> {
  const item = await deps.store.get(keys.slackUser(slackUserId));
  return item ? stored.slackUser.fromItem(item).principalId : null;
}

/**
 * The caller of a Slack decision: the linked principal, a user, with the profile Elevate holds. Slack proves no
 * sign-in: no MFA, no authentication context, no identity-provider groups (an approver through such a group decides
 * in the console or the API; Elevate groups count, as they do for every caller).
 */
async function slackCtx(deps: Deps, principalId: string, log: Log): Promise<CallContext> {
  const item = await deps.store.get(keys.principal(userRef(principalId)), false);
  const p = item ? stored.principal.fromItem(item) : undefined;
  const caller: Caller = {
    id: principalId,
    email: p?.email ?? null,
    name: p?.displayName ?? null,
    groups: [],
    mfa: false,
    acrs: [],
    authTime: null,
  };
  const ctx = new CallContext(deps, caller, undefined, log);
  ctx.channel = 'slack';
  return ctx;
}

const REASON_OF: Partial<Record<string, SlackRefusal>> = {
  AlreadyDecided: 'alreadyDecided',
  SelfApprovalForbidden: 'requester',
  Forbidden: 'notApprover',
  NotFound: 'notFound',
  ApproverMfaRequired: 'mfaRequired',
};
const reasonOf = (error: DomainError): SlackRefusal => REASON_OF[error.code] ?? 'notApprover';

/**
 * A click: the same checks as the decision (so a refusal is told at once), then the modal. With the approver's MFA
 * required by the policy, nothing is decided in Slack: the answer points to the console.
 */
async function clickRefusal(
  deps: Deps,
  slack: Slack,
  principalId: string,
  click: { requestId: string; decision: Decision; triggerId: string; slackUserId: string },
  signingSecret: string,
  log: Log,
): Promise<{ reason: SlackRefusal; extra?: string } | undefined> {
  const ctx = await slackCtx(deps, principalId, log);
  const operationId = click.decision === 'Approve' ? 'approveRequest' : 'denyRequest';
  let r: Awaited<ReturnType<typeof readRequest>>;
  try {
    r = await readRequest(deps.store, click.requestId);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    await ctx.store.transact([
      ctx.audit(
        'authorization.refused',
        { requestId: click.requestId },
        { operationId, code: error.code, channel: 'slack' },
      ),
    ]);
    return { reason: 'notFound' };
  }
  const facts = await approverFacts(ctx);
  const refusal =
    decisionRefusal(r, ctx.caller, facts) ??
    (mayDecide(r, ctx.caller, facts)
      ? null
      : new DomainError('AlreadyDecided', 'you have already decided on this stage of the request'));
  if (refusal) {
    await auditRefusal(ctx, r, operationId, refusal);
    return { reason: reasonOf(refusal) };
  }
  if (approverMfaRequired(await policyOfRequest(deps.store, r))) {
    await auditRefusal(
      ctx,
      r,
      operationId,
      new DomainError('ApproverMfaRequired', "the role's policy requires MFA in the approver's sign-in"),
    );
    const url = deps.config.consoleUrl ? ` ${deps.config.consoleUrl}/requests/${encodeURIComponent(r.id)}` : '';
    return { reason: 'mfaRequired', extra: url };
  }
  const view = decisionModal({
    metadata: modalMetadata(signingSecret, r.id, click.decision, click.slackUserId),
    decision: click.decision,
    roleId: r.roleId,
    principalId: r.principalId,
    justificationRequired: true,
  });
  await slack.openView(click.triggerId, view);
  return undefined;
}

/** The decision, through the API's use case; a refusal is audited (decideRequest audits its own 403s). */
async function decide(
  ctx: CallContext,
  requestId: string,
  decision: Decision,
  justification: string | null,
): Promise<SlackRefusal | undefined> {
  const operationId = decision === 'Approve' ? 'approveRequest' : 'denyRequest';
  try {
    // The policy's requireApproverMfa refuses it there too (a Slack caller has no MFA): ApproverMfaRequired.
    await decideRequest(ctx, requestId, decision, justification ?? undefined);
    return undefined;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const r = await readRequest(ctx.store, requestId).catch(() => undefined);
    // decideRequest audits its 403s and policy refusals, and a request hidden from the caller (404).
    const auditedAlready = error.status === 403 || error.isPolicyRefusal || (error.code === 'NotFound' && r);
    if (!auditedAlready) {
      await ctx.store.transact([
        ctx.audit('authorization.refused', r ? targetOf(r) : { requestId }, {
          operationId,
          code: error.code,
          channel: 'slack',
        }),
      ]);
    }
    return reasonOf(error);
  }
}

/** A refusal of an interaction no principal stands behind (unsigned, unreadable, unlinked): by the system, audited. */
async function auditUnsigned(deps: Deps, reason: SlackRefusal, details: Record<string, unknown>): Promise<void> {
  const target = typeof details.requestId === 'string' ? { requestId: details.requestId } : {};
  await deps.store.transact([
    ops.audit(
      auditEvent(deps.clock.now(), SYSTEM_ACTOR, 'slack.refused', target, { reason, channel: 'slack', ...details }),
    ),
  ]);
}
