import type { Deps } from '../deps.ts';
import {
  approvesAsAdminOnly,
  closeCurrentStage,
  currentStageIndex,
  decide,
  decisionRefusal,
  mayDecide,
  type Stage,
  stageTimeoutSeconds,
} from '../domain/approval.ts';
import { DomainError } from '../domain/errors.ts';
import { approverMfaRequired } from '../domain/policy.ts';
import { checkCancel, holdsPending, type Request, transition } from '../domain/request.ts';
import * as mail from '../notifications/templates.ts';
import { ops, queries, type RequestRecord, stored, type WriteOp } from '../store/records.ts';
import type { Page } from '../store/store.ts';
import type { CallContext } from './context.ts';
import { type Effect, prepareEffects, quiet, runEffects } from './effects.ts';
import { failRequest, type GrantKnown, grantNow, readGrantKnown } from './lifecycle.ts';
import { factsOf, presentRequest, readRequest, slotOf, targetOf } from './request-records.ts';
import { approvalMail } from './requests.ts';
import { policyOfRequest, requireRole } from './roles.ts';
import { approverFacts, audited, readVisibleRequest } from './visibility.ts';

const DECISION_ATTEMPTS = 5;

/**
 * POST /v1/requests/{id}/approve|deny. The decision is a conditional write on the request's version:
 * of two concurrent deciders exactly one writes first; the other re-reads and either counts too (a
 * quorum of two) or finds the request decided (409 AlreadyDecided). The final approval of a request
 * whose start has come grants it in the same transaction, so access is in force when this call answers.
 * `also`: writes of the caller's channel committed with the decision (Slack's record of the submission decided).
 */
export async function decideRequest(
  ctx: CallContext,
  id: string,
  decision: 'Approve' | 'Deny',
  justification: string | undefined,
  also: readonly WriteOp[] = [],
): Promise<Request> {
  const operationId = decision === 'Approve' ? 'approveRequest' : 'denyRequest';
  for (let attempt = 1; ; attempt++) {
    // Read at once (bench/README.md, "approve"): the request, the caller's approver facts, the audit chain's head;
    // then what a grant needs (an activation's), before the one transaction.
    const chain = ctx.store.prepareChain(ctx.now);
    quiet(approverFacts(ctx));
    const r = await readVisibleRequest(ctx, id, operationId);
    const known =
      r.action === 'selfActivate' && decision === 'Approve' ? quiet(readGrantKnown(ctx.deps, r)) : undefined;
    const { writes, effects, result } = await audited(ctx, r, operationId, () =>
      planDecision(ctx, r, decision, justification, known),
    );
    // The mail's recipients are read while the transaction runs; nothing is sent before it committed.
    const after = prepareEffects(ctx.deps, Promise.resolve(effects), ctx.log);
    try {
      // `also` first: a conflict of its own (a Slack submission decided by another run) names the refusal.
      await ctx.store.transact([...also, ...writes], { chain });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'AlreadyDecided' && attempt < DECISION_ATTEMPTS) continue;
      throw error;
    }
    await after.run();
    return presentRequest(result);
  }
}

async function planDecision(
  ctx: CallContext,
  r: RequestRecord,
  decision: 'Approve' | 'Deny',
  justification: string | undefined,
  known?: Promise<GrantKnown>,
) {
  const who = await approverFacts(ctx);
  const refusal = decisionRefusal(r, ctx.caller, who);
  if (refusal) throw refusal;
  if (!ctx.caller.mfa && approverMfaRequired(await policyOfRequest(ctx.store, r))) {
    // Slack and any sign-in without MFA: the approver signs in again with it (the console's /requests/{id}).
    throw new DomainError('ApproverMfaRequired', "the role's policy requires MFA in the approver's sign-in");
  }
  const index = currentStageIndex(r.approval);
  const stage = r.approval.stages[index] as Stage;
  if (approvesAsAdminOnly(stage, ctx.caller, who)) {
    // An approver only through elevate-admin decides with admin authority: MFA as for any admin change.
    await ctx.requireAdminMfa('a decision as an administrator');
  }
  const nowIso = ctx.now.toISOString();
  const outcome = decide(
    r.approval,
    { approverId: ctx.caller.id, decision, justification: justification ?? null, at: nowIso },
    ctx.now,
  );
  const next: RequestRecord = { ...r, approval: outcome.approval, version: r.version + 1 };
  const writes: WriteOp[] = [];
  const effects: Effect[] = [];
  const details = { stage: index, decision, justification: justification ?? null, channel: ctx.channel };
  const role = known ? (await known).role : await requireRole(ctx.store, r.roleId);
  const facts = factsOf(r, role.displayName, null);

  if (outcome.kind === 'recorded') {
    writes.push(ops.updateRequest(next, r.version), ctx.audit('request.decisionRecorded', targetOf(r), details));
    effects.push({ kind: 'slack', requestId: r.id });
    return { writes, effects, result: next };
  }
  if (outcome.kind === 'denied') {
    const denied: RequestRecord = { ...transition(next, 'Denied', ctx.now), taskToken: null };
    writes.push(
      ...(holdsPending(r.action) ? [ops.deletePending(slotOf(r), r.id)] : []),
      ops.updateRequest(denied, r.version),
      ctx.audit('request.denied', targetOf(r), details),
      ops.publish({ type: 'elevate.request.denied', detail: { request: presentRequest(denied) } }, ctx.now),
    );
    effects.push(
      { kind: 'failTask', token: r.taskToken, error: 'Denied', cause: `denied by ${ctx.caller.id}` },
      { kind: 'mail', to: { principals: [r] }, mail: mail.requestOutcome(facts, 'denied') },
      { kind: 'slack', requestId: r.id },
    );
    return { writes, effects, result: denied };
  }
  if (outcome.next !== null) {
    const moved: RequestRecord = { ...next, taskToken: null };
    const nextStage = moved.approval.stages[outcome.next];
    writes.push(ops.updateRequest(moved, r.version), ctx.audit('request.stageApproved', targetOf(r), details));
    effects.push(
      {
        kind: 'resumeTask',
        token: r.taskToken,
        output: { next: outcome.next, stageTimeoutSeconds: nextStage ? stageTimeoutSeconds(nextStage) : 0 },
      },
      ...(await approvalMail(ctx, moved, outcome.next)),
    );
    return { writes, effects, result: moved };
  }
  // The last stage passed.
  const approvedAudit = ctx.audit('request.approved', targetOf(r), details);
  const event = ops.publish({ type: 'elevate.request.approved', detail: { requestId: r.id } }, ctx.now);
  const resume: Effect = { kind: 'resumeTask', token: r.taskToken, output: { next: null } };
  if (Date.parse(r.schedule.startDateTime) > ctx.now.getTime()) {
    const scheduled: RequestRecord = { ...transition(next, 'Scheduled', ctx.now), taskToken: null };
    writes.push(ops.updateRequest(scheduled, r.version), approvedAudit, event);
    effects.push(
      resume,
      { kind: 'mail', to: { principals: [r] }, mail: mail.requestOutcome(facts, 'approved') },
      { kind: 'slack', requestId: r.id },
    );
    return { writes, effects, result: scheduled };
  }
  const decided: RequestRecord = transition(next, 'Scheduled', ctx.now);
  try {
    // `decided` is a step ahead of what was read: its write is guarded by the version read.
    const grant = await grantNow(ctx.deps, decided, ctx.now, ctx.actor, r.version, known && (await known));
    writes.push(...grant.writes, approvedAudit, event);
    effects.push(resume, ...grant.effects, { kind: 'slack', requestId: r.id });
    return {
      writes,
      effects,
      // The request as granted: its window is set at the grant (the duration counts from now).
      result: { ...grant.request, version: r.version + 1 },
    };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const failed = failRequest(decided, ctx.now, error.message, ctx.actor, r.version);
    writes.push(...failed.writes, approvedAudit);
    effects.push({ kind: 'failTask', token: r.taskToken, error: 'Failed', cause: error.message }, ...failed.effects, {
      kind: 'slack',
      requestId: r.id,
    });
    return { writes, effects, result: { ...transition(decided, 'Failed', ctx.now), version: r.version + 1 } };
  }
}

/** POST /v1/requests/{id}/cancel: the requester withdraws a request that is still waiting. */
export async function cancelRequest(ctx: CallContext, id: string): Promise<Request> {
  const r = await readVisibleRequest(ctx, id, 'cancelRequest');
  await audited(ctx, r, 'cancelRequest', async () => checkCancel(r, ctx.caller.id));
  const canceled: RequestRecord = {
    ...transition(r, 'Canceled', ctx.now),
    approval: closeCurrentStage(r.approval, 'Canceled'),
    // A cancel is the request's last word: it is when the request was decided, even after an approval.
    decidedAt: ctx.now.toISOString(),
    version: r.version + 1,
    taskToken: null,
  };
  await ctx.store.transact([
    ops.deletePending(slotOf(r), r.id),
    ops.updateRequest(canceled, r.version),
    ctx.audit('request.canceled', targetOf(r)),
    ops.publish({ type: 'elevate.request.canceled', detail: { requestId: r.id } }, ctx.now),
  ]);
  await runEffects(
    ctx.deps,
    [
      { kind: 'failTask', token: r.taskToken, error: 'Canceled', cause: 'canceled by the requester' },
      { kind: 'slack', requestId: r.id },
      ...(r.status === 'Scheduled'
        ? [{ kind: 'stopWorkflow' as const, name: r.id, cause: 'canceled by the requester' }]
        : []),
    ],
    ctx.log,
  );
  return presentRequest(canceled);
}

/** GET /v1/approvals: requests waiting in a stage where the caller is an approver (never the caller's own). */
export async function listApprovals(
  ctx: CallContext,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<Request>> {
  const facts = await approverFacts(ctx);
  return ctx.store.page([queries.requestsByStatus('PendingApproval')], {
    ...page,
    filter: (item) => mayDecide(stored.request.fromItem(item), ctx.caller, facts),
    map: (item) => presentRequest(stored.request.fromItem(item)),
  });
}

/**
 * Workflow step `awaitApproval`: keeps the task token of the stage on the request, so a decision can
 * resume the workflow. If the stage was already decided before the token arrived, resumes at once.
 */
export async function awaitApprovalStep(
  deps: Deps,
  requestId: string,
  stage: number,
  taskToken: string,
): Promise<void> {
  for (let attempt = 1; attempt <= DECISION_ATTEMPTS; attempt++) {
    const r = await readRequest(deps.store, requestId);
    if (r.status !== 'PendingApproval' || currentStageIndex(r.approval) !== stage) {
      await answerMovedOn(deps, r, stage, taskToken);
      return;
    }
    if (await keepTaskToken(deps, r, taskToken)) return;
  }
  throw new Error(`could not record the task token of request ${requestId}`);
}

/** Keeps the stage's task token on the request; false when the request changed meanwhile (read it again). */
async function keepTaskToken(deps: Deps, r: RequestRecord, taskToken: string): Promise<boolean> {
  try {
    await deps.store.transact([ops.updateRequest({ ...r, taskToken, version: r.version + 1 }, r.version)]);
    return true;
  } catch (error) {
    if (error instanceof DomainError) return false;
    throw error;
  }
}

/** The request is no longer at `stage` when its token arrives: answers the stage's task now, if it is still due. */
async function answerMovedOn(deps: Deps, r: RequestRecord, stage: number, taskToken: string): Promise<void> {
  const current = currentStageIndex(r.approval);
  // Decided already (a fast approver, a denial, a cancel): answer the task now.
  if (r.status === 'PendingApproval' && current > stage) {
    const s = r.approval.stages[current];
    await deps.workflow.succeed(taskToken, { next: current, stageTimeoutSeconds: s ? stageTimeoutSeconds(s) : 0 });
  } else if (r.status === 'Scheduled' || r.status === 'Granted') {
    await deps.workflow.succeed(taskToken, { next: null });
  } else if (r.status !== 'PendingApproval') {
    await deps.workflow.fail(taskToken, r.status === 'Canceled' ? 'Canceled' : 'Denied', `the request is ${r.status}`);
  }
  // else an earlier stage's token: nothing to do
}
