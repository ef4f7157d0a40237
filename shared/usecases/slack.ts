import { randomUUID } from 'node:crypto';
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
import { keys, ops, type RequestRecord, SlackInteractionSeen, stored, type WriteOp } from '../store/records.ts';
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
 * POST /v1/integrations/slack/interactions: an interaction Slack signed (no bearer token), answered within Slack's
 * 3 s. A click on Approve or Deny opens the decision modal; its submission is checked, handed to `later` (its
 * asynchronous run, runSlackSubmission) and answered at once: the decision goes through the very use case of
 * POST /v1/requests/{id}/approve and /deny (approver of the current stage, never the requester, quorum, one winner
 * under races), audited with `channel: "slack"`, once per submission whatever Slack's retries. Every refusal is
 * audited; a signed one is answered in Slack with its reason (ephemeral, in the modal, or in a direct message when
 * only the decision finds it); an unsigned one (bad signature, stale timestamp) only with a status, since nothing in
 * it can be trusted.
 */
export async function handleSlackInteraction(
  deps: Deps,
  call: SlackCall,
  later: SlackLater,
  log: Log = defaultLog,
): Promise<SlackAnswer> {
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
  // A submission of the decision modal: checked now (a refusal is shown in the modal), decided after the answer.
  const opened = openModalMetadata(signingSecret, interaction.metadata, interaction.slackUserId);
  if (!opened) {
    await auditUnsigned(deps, 'tamperedModal', { slackUserId: interaction.slackUserId });
    return modalError('tamperedModal');
  }
  if (!principalId) {
    await auditUnsigned(deps, 'unmapped', { slackUserId: interaction.slackUserId, requestId: opened.requestId });
    return modalError('unmapped');
  }
  const checked = await decisionRefusalNow(deps, principalId, opened.requestId, opened.decision, log);
  if ('reason' in checked) return modalError(checked.reason);
  const job: SlackSubmission = {
    id: interaction.id,
    slackUserId: interaction.slackUserId,
    requestId: opened.requestId,
    decision: opened.decision,
    justification: interaction.justification,
  };
  try {
    await deps.store.transact([
      ops.slackInteractionQueued(job.id, new Date(deps.clock.now().getTime() + SUBMISSION_KEPT_MS)),
    ]);
  } catch (error) {
    if (!(error instanceof SlackInteractionSeen)) throw error;
    // Slack's retry of a submission already taken (X-Slack-Retry-Num): the first delivery decides, this one answers.
    log('info', 'a Slack submission delivered again; decided once', {
      submission: job.id,
      retry: call.headers['x-slack-retry-num'] ?? null,
    });
    return CLEAR;
  }
  try {
    await later(job);
  } catch (error) {
    // Not started: given up, so that Slack's retry of this submission (after the 500) takes it again.
    await deps.store.transact([ops.slackInteractionDropped(job.id)]).catch(() => {});
    throw error;
  }
  return CLEAR;
}

/** How long a submission's record is kept (its TTL): far beyond Slack's retries (three, within a minute or so). */
const SUBMISSION_KEPT_MS = 24 * 3600_000;
/** How long a run holds a submission: beyond the function's time-out, so only a run that died loses it to a retry. */
const SUBMISSION_LEASE_MS = 120_000;
/** Tries of a decision the request's other deciders keep busy (Conflict), in one run. */
const BUSY_ATTEMPTS = 4;
const CLEAR: SlackAnswer = { status: 200, body: { response_action: 'clear' } };

/** A modal submission, verified and checked, handed to the asynchronous run (runSlackSubmission). */
export interface SlackSubmission {
  /** The digest of the submission's payload: the same for Slack's retries of it. */
  id: string;
  slackUserId: string;
  requestId: string;
  decision: Decision;
  justification: string | null;
}

/** Hands a submission to its asynchronous run (deployed: the function invoked again, InvocationType Event). */
export type SlackLater = (submission: SlackSubmission) => Promise<void>;

/**
 * The asynchronous half of a modal submission (after Slack got its answer): the decision through the API's use case,
 * exactly once per submission whatever the deliveries (the submission's record is held by one run at a time and
 * marked done in the decision's own transaction). A refusal found only now (another approver decided first, the
 * link removed meanwhile) is audited and told to the approver in a direct message. The messages' update, the
 * requester's message and the mail are the decision's effects, as from the API.
 */
export async function runSlackSubmission(deps: Deps, job: SlackSubmission, log: Log = defaultLog): Promise<void> {
  const slack = deps.slack;
  if (!slack) return;
  const claim = randomUUID();
  const now = deps.clock.now();
  try {
    await deps.store.transact([
      ops.slackInteractionTaken(job.id, claim, now, new Date(now.getTime() + SUBMISSION_LEASE_MS)),
    ]);
  } catch (error) {
    if (!(error instanceof SlackInteractionSeen)) throw error;
    log('info', 'a Slack submission already taken or done; nothing decided again', { submission: job.id });
    return;
  }
  const tell = (reason: SlackRefusal) =>
    slack
      .postMessage(job.slackUserId, { text: `${REFUSAL_TEXT[reason]} (request ${job.requestId})`, blocks: [] })
      .catch((error: unknown) => log('warn', 'Slack chat.postMessage of a refusal failed', errorFields(error)));
  const done = () => deps.store.transact([ops.slackInteractionDone(job.id, claim)]);
  let refusal: SlackRefusal | undefined;
  try {
    const principalId = await principalOfSlackUser(deps, job.slackUserId);
    if (!principalId) {
      await auditUnsigned(deps, 'unmapped', { slackUserId: job.slackUserId, requestId: job.requestId });
      refusal = 'unmapped';
    } else {
      const ctx = await slackCtx(deps, principalId, log);
      for (let attempt = 1; ; attempt++) {
        try {
          refusal = await decide(ctx, job.requestId, job.decision, job.justification, [
            ops.slackInteractionDone(job.id, claim),
          ]);
          break;
        } catch (error) {
          // Other deciders on the request (a Conflict: not a refusal, the state moved): tried again a little later;
          // past that, Lambda's retry of the event (the submission given back below) decides or refuses it.
          if (!(error instanceof DomainError && error.code === 'Conflict') || attempt >= BUSY_ATTEMPTS) throw error;
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 200 * attempt));
        }
      }
    }
    if (refusal) await done();
  } catch (error) {
    if (error instanceof SlackInteractionSeen) {
      log('info', 'a Slack submission decided by another run; nothing decided again', { submission: job.id });
      return;
    }
    // Given back, so that the retry of this event takes it at once (the lease covers a run that died).
    await deps.store.transact([ops.slackInteractionReleased(job.id, claim)]).catch(() => {});
    throw error;
  }
  if (refusal) await tell(refusal);
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
 * The checks of a decision, made before Slack gets its answer (a click's, so that a refusal is told at once; a
 * submission's, so that it is shown in the modal): the request exists, the caller is an approver of its current
 * stage who has not decided, not the requester, and the policy does not ask for the approver's MFA. Each refusal is
 * audited. The decision itself checks all of it again (the state may move in between).
 */
async function decisionRefusalNow(
  deps: Deps,
  principalId: string,
  requestId: string,
  decision: Decision,
  log: Log,
): Promise<{ reason: SlackRefusal; extra?: string } | { request: RequestRecord }> {
  const ctx = await slackCtx(deps, principalId, log);
  const operationId = decision === 'Approve' ? 'approveRequest' : 'denyRequest';
  let r: RequestRecord;
  try {
    r = await readRequest(deps.store, requestId);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    await ctx.store.transact([
      ctx.audit('authorization.refused', { requestId }, { operationId, code: error.code, channel: 'slack' }),
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
  return { request: r };
}

/**
 * A click: the checks of the decision (so a refusal is told at once), then the modal (views.open, before the
 * answer: its trigger expires 3 s after the click). With the approver's MFA required by the policy, nothing is
 * decided in Slack: the answer points to the console.
 */
async function clickRefusal(
  deps: Deps,
  slack: Slack,
  principalId: string,
  click: { requestId: string; decision: Decision; triggerId: string; slackUserId: string },
  signingSecret: string,
  log: Log,
): Promise<{ reason: SlackRefusal; extra?: string } | undefined> {
  const checked = await decisionRefusalNow(deps, principalId, click.requestId, click.decision, log);
  if ('reason' in checked) return checked;
  const r = checked.request;
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
  also: WriteOp[],
): Promise<SlackRefusal | undefined> {
  const operationId = decision === 'Approve' ? 'approveRequest' : 'denyRequest';
  try {
    // The policy's requireApproverMfa refuses it there too (a Slack caller has no MFA): ApproverMfaRequired.
    await decideRequest(ctx, requestId, decision, justification ?? undefined, also);
    return undefined;
  } catch (error) {
    // A Conflict (the request kept moving under the decision) is no refusal: the caller tries again.
    if (!(error instanceof DomainError) || error.code === 'Conflict') throw error;
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
