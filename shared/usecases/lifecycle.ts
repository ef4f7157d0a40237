import type { Deps } from '../deps.ts';
import { closeCurrentStage } from '../domain/approval.ts';
import { type Assignment, inForce, isLive } from '../domain/assignment.ts';
import { type Actor, SYSTEM_ACTOR } from '../domain/audit.ts';
import { DomainError } from '../domain/errors.ts';
import { covers } from '../domain/scope.ts';
import { newId } from '../ids.ts';
import * as mail from '../notifications/templates.ts';
import { keys, ops, type Principal, queries, type RequestRecord, strip, type WriteOp } from '../store/records.ts';
import { readLive, toAssignment } from './assignments.ts';
import { auditEvent } from './context.ts';
import { type Effect, runEffects } from './effects.ts';
import { factsOf, newRequestRecord, readRequest, slotOf, targetOf, waitUntil } from './request-records.ts';
import { readPolicy, requireRole } from './roles.ts';

/**
 * What happens to a request and its assignment over time, whoever drives it: the API (an approval that
 * completes, a deactivation), the workflow (grant at the start, expiry at the end, approval time-out) or
 * the reconcile job. Each step re-reads the current state and is a no-op when it has already happened,
 * so the API, the workflow and the reconcile job can race and the outcome is still exactly one.
 */
export interface Step {
  writes: WriteOp[];
  effects: Effect[];
}

const audit = (now: Date, actor: Actor, action: string, r: RequestRecord, details: Record<string, unknown> = {}) =>
  ops.audit(auditEvent(now, actor, action, targetOf(r), details));

/** Does the request hold the slot's pending marker (activations and self requests waiting for a decision or a start)? */
export const holdsPending = (r: RequestRecord): boolean => r.action.startsWith('self') && r.action !== 'selfDeactivate';

export async function principalName(deps: Deps, id: string): Promise<string | null> {
  const item = await deps.store.get(keys.principal(id), false);
  return item ? strip<Principal>(item).displayName : null;
}

/** The lifecycle event that says a role became active, written with the change (the outbox). */
export const activatedEvent = (r: RequestRecord, a: Assignment, now: Date): WriteOp =>
  ops.publish({ type: 'elevate.assignment.activated', detail: { assignment: a, requestId: r.id } }, now);

/** The mail that says a role became active (to admins too when the role is privileged). */
export async function activatedEffects(deps: Deps, r: RequestRecord, a: Assignment): Promise<Effect[]> {
  const role = await requireRole(deps.store, r.roleId);
  const { policy } = await readPolicy(deps.store, r.roleId);
  const facts = factsOf(r, role.displayName, await principalName(deps, r.principalId), a);
  const effects: Effect[] = [];
  if (!policy.notifications.criticalOnly) {
    effects.push({ kind: 'mail', to: { principals: [r.principalId] }, mail: mail.requestOutcome(facts, 'granted') });
  }
  if (role.privileged && a.assignmentType === 'active') {
    effects.push({
      kind: 'mail',
      to: { admins: true, addresses: policy.notifications.additionalRecipients },
      mail: mail.privilegedActivated(facts),
    });
  }
  return effects;
}

/**
 * The writes that carry out an approved (or due) request now: create the activation, move an extension's
 * end, or start a scheduled assignment. Re-checks that the eligibility still stands. Throws a DomainError
 * when the request can no longer be granted (the caller then records it as Failed).
 */
export async function grantNow(
  deps: Deps,
  r: RequestRecord,
  now: Date,
  actor: Actor,
): Promise<Step & { assignment: Assignment }> {
  const nowIso = now.toISOString();
  const granted: RequestRecord = {
    ...r,
    status: 'Granted',
    decidedAt: r.decidedAt ?? nowIso,
    version: r.version + 1,
    taskToken: null,
  };
  const end = r.schedule.expiration.endDateTime;
  const pending = holdsPending(r) ? [ops.deletePending(slotOf(r), r.id)] : [];

  if (r.action === 'selfActivate') {
    const eligibility = await standingEligibility(deps, r, now);
    return grantNew(
      deps,
      r,
      granted,
      activationOf(r, eligibility.id, now),
      now,
      actor,
      pending,
      'assignment.activated',
    );
  }

  // Everything else acts on an existing assignment: start it, or move its end.
  const current = r.assignmentId ? await readAssignment(deps, r.assignmentId) : await readLive(deps.store, slotOf(r));
  if (!current || !isLive(current)) {
    if (r.action === 'selfRenew') {
      const renewed: Assignment = { ...activationOf(r, null, now), origin: 'assigned' };
      return grantNew(deps, r, granted, renewed, now, actor, pending, 'assignment.renewed');
    }
    throw new DomainError('Conflict', 'the assignment this request acts on has ended');
  }
  const updated: Assignment =
    r.action === 'adminAssign' || r.action === 'adminRenew'
      ? { ...current, status: 'Active', updatedAt: nowIso, version: current.version + 1 }
      : {
          ...current,
          endDateTime: end,
          extensions: current.origin === 'activated' ? current.extensions + 1 : current.extensions,
          requestId: r.id,
          status: Date.parse(current.startDateTime) <= now.getTime() ? 'Active' : 'Scheduled',
          updatedAt: nowIso,
          version: current.version + 1,
        };
  granted.assignmentId = current.id;
  const action = r.action === 'adminAssign' || r.action === 'adminRenew' ? 'assignment.started' : 'assignment.extended';
  return {
    assignment: updated,
    writes: [
      ...ops.replaceAssignment(updated, current.version),
      ...pending,
      ops.updateRequest(granted, r.version),
      audit(now, actor, action, granted, { before: current, after: updated }),
      ...(action === 'assignment.started' ? [activatedEvent(granted, updated, now)] : []),
    ],
    effects: action === 'assignment.started' ? await activatedEffects(deps, granted, updated) : [],
  };
}

/** The active assignment an activation request makes, from now (or its later start) to its end. */
export function activationOf(r: RequestRecord, eligibilityId: string | null, now: Date): Assignment {
  const nowIso = now.toISOString();
  return {
    id: newId('asg', now),
    ...slotOf(r),
    principalType: r.principalType,
    origin: 'activated',
    status: 'Active',
    startDateTime: new Date(Math.max(now.getTime(), Date.parse(r.schedule.startDateTime))).toISOString(),
    endDateTime: r.schedule.expiration.endDateTime,
    requestId: r.id,
    eligibilityId,
    extensions: 0,
    justification: r.justification,
    createdAt: nowIso,
    updatedAt: nowIso,
    version: 1,
  };
}

/** The writes and effects that grant a request by creating its assignment. */
async function grantNew(
  deps: Deps,
  r: RequestRecord,
  granted: RequestRecord,
  assignment: Assignment,
  now: Date,
  actor: Actor,
  pending: WriteOp[],
  action: string,
): Promise<Step & { assignment: Assignment }> {
  granted.assignmentId = assignment.id;
  return {
    assignment,
    writes: [
      ...ops.createAssignment(assignment),
      ...pending,
      ops.updateRequest(granted, r.version),
      audit(now, actor, action, granted, { assignment }),
      activatedEvent(granted, assignment, now),
    ],
    effects: await activatedEffects(deps, granted, assignment),
  };
}

async function readAssignment(deps: Deps, id: string): Promise<Assignment | undefined> {
  const item = await deps.store.get(keys.assignment(id));
  return item ? toAssignment(item) : undefined;
}

/** The caller's eligibility that still stands and covers the request's scope, or NotEligible. */
export async function standingEligibility(
  deps: Deps,
  r: Pick<RequestRecord, 'principalId' | 'roleId' | 'scope'>,
  now: Date,
): Promise<Assignment> {
  const slots = await deps.store.all(queries.live(r.principalId, r.roleId, 'eligible'));
  const eligibility = slots.map(toAssignment).find((a) => covers(a.scope, r.scope) && inForce(a, now));
  if (!eligibility) {
    throw new DomainError(
      'NotEligible',
      `you hold no eligible assignment of role '${r.roleId}' that covers '${r.scope}'`,
    );
  }
  return eligibility;
}

/** A request that can no longer be carried out: Failed, its pending marker released, audited. */
export function failRequest(r: RequestRecord, now: Date, reason: string, actor: Actor = SYSTEM_ACTOR): Step {
  const failed: RequestRecord = {
    ...r,
    status: 'Failed',
    decidedAt: r.decidedAt ?? now.toISOString(),
    version: r.version + 1,
    taskToken: null,
  };
  return {
    writes: [
      ...(holdsPending(r) ? [ops.deletePending(slotOf(r), r.id)] : []),
      ops.updateRequest(failed, r.version),
      audit(now, actor, 'request.failed', r, { reason }),
      ops.publish({ type: 'elevate.request.failed', detail: { requestId: r.id, reason } }, now),
    ],
    effects: [],
  };
}

/** Workflow step `grant`: at the start time, grant what was approved (or scheduled). */
export async function grantStep(
  deps: Deps,
  requestId: string,
): Promise<{ granted: boolean; waitUntil: string | null }> {
  const now = deps.clock.now();
  const r = await readRequest(deps.store, requestId);
  if (r.status === 'Granted') {
    const a = r.assignmentId ? await readAssignment(deps, r.assignmentId) : undefined;
    return { granted: !!a && isLive(a), waitUntil: a ? waitUntil(a.endDateTime, now) : null };
  }
  if (r.status !== 'Scheduled') return { granted: false, waitUntil: null };
  try {
    const step = await grantNow(deps, r, now, SYSTEM_ACTOR);
    await deps.store.transact(step.writes);
    await runEffects(deps, step.effects);
    return { granted: true, waitUntil: waitUntil(step.assignment.endDateTime, now) };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const fresh = await readRequest(deps.store, requestId);
    if (fresh.status !== 'Scheduled') return grantStep(deps, requestId);
    const step = failRequest(fresh, now, error.message);
    await deps.store.transact(step.writes);
    await runEffects(deps, step.effects);
    return { granted: false, waitUntil: null };
  }
}

/** Ends a live assignment now (Expired at its end, or Revoked/deactivated before it). */
export function endWrites(
  a: Assignment,
  now: Date,
  status: 'Expired' | 'Revoked',
  actor: Actor,
  action: string,
  r?: RequestRecord,
): Step {
  const nowIso = now.toISOString();
  const ended: Assignment = {
    ...a,
    status,
    endDateTime: a.endDateTime && a.endDateTime < nowIso ? a.endDateTime : nowIso,
    updatedAt: nowIso,
    version: a.version + 1,
  };
  const target = {
    principalId: a.principalId,
    roleId: a.roleId,
    scope: a.scope,
    assignmentId: a.id,
    requestId: r?.id ?? a.requestId,
  };
  return {
    writes: [
      ...ops.endAssignment(ended, a.version),
      ops.audit(auditEvent(now, actor, action, target, { assignment: ended })),
      ops.publish(
        {
          type: status === 'Expired' ? 'elevate.assignment.expired' : 'elevate.assignment.revoked',
          detail: { assignment: ended },
        },
        now,
      ),
    ],
    effects: [],
  };
}

/**
 * The removal of a live assignment (adminRemove, and a review's denial): an `adminRemove` request,
 * Revoked, with the assignment ended now and its live slot freed, all audited in one transaction.
 */
export function removalPlan(
  actor: Actor,
  now: Date,
  a: Assignment,
  justification: string | null,
): { request: RequestRecord; step: Step } {
  const request = newRequestRecord(
    actor,
    now,
    {
      action: 'adminRemove',
      assignmentType: a.assignmentType,
      principalType: a.principalType,
      roleId: a.roleId,
      scope: a.scope,
      justification: justification ?? undefined,
      ticket: undefined,
    },
    a.principalId,
    { start: now, end: now },
    { type: 'afterDateTime', endDateTime: now.toISOString() },
  );
  request.assignmentId = a.id;
  request.status = 'Revoked';
  return { request, step: endWrites(a, now, 'Revoked', actor, 'assignment.revoked', request) };
}

/** Removes a live assignment now (a review's denial): the same writes and effects as adminRemove. */
export async function removeAssignment(
  deps: Deps,
  actor: Actor,
  a: Assignment,
  justification: string | null,
): Promise<RequestRecord> {
  const now = deps.clock.now();
  const { request, step } = removalPlan(actor, now, a, justification);
  await deps.store.transact([
    ...step.writes,
    ops.createRequest(request),
    ops.audit(auditEvent(now, actor, 'request.created', targetOf(request), { request })),
  ]);
  await runEffects(deps, step.effects);
  return request;
}

/** Workflow step `expire`: at the end time, expire the assignment, unless its end moved (then wait again). */
export async function expireStep(
  deps: Deps,
  requestId: string,
): Promise<{ expired: boolean; waitUntil: string | null }> {
  const now = deps.clock.now();
  const r = await readRequest(deps.store, requestId);
  const a = r.assignmentId ? await readAssignment(deps, r.assignmentId) : undefined;
  if (!a || !isLive(a)) return { expired: true, waitUntil: null };
  if (a.endDateTime === null) return { expired: true, waitUntil: null };
  if (Date.parse(a.endDateTime) > now.getTime()) return { expired: false, waitUntil: waitUntil(a.endDateTime, now) };
  const step = endWrites(a, now, 'Expired', SYSTEM_ACTOR, 'assignment.expired');
  try {
    await deps.store.transact(step.writes);
  } catch (error) {
    // Someone else (deactivation, removal, the reconcile job, an extension) changed it first: look again.
    if (error instanceof DomainError) return expireStep(deps, requestId);
    throw error;
  }
  await runEffects(deps, step.effects);
  return { expired: true, waitUntil: null };
}

/** Workflow step `timedOut` (and the reconcile job): a stage's time ran out before it was decided. */
export async function timeOutStep(deps: Deps, requestId: string): Promise<void> {
  const now = deps.clock.now();
  const r = await readRequest(deps.store, requestId);
  if (r.status !== 'PendingApproval') return;
  const timedOut: RequestRecord = {
    ...r,
    status: 'TimedOut',
    approval: closeCurrentStage(r.approval, 'TimedOut'),
    decidedAt: now.toISOString(),
    version: r.version + 1,
    taskToken: null,
  };
  try {
    await deps.store.transact([
      ...(holdsPending(r) ? [ops.deletePending(slotOf(r), r.id)] : []),
      ops.updateRequest(timedOut, r.version),
      audit(now, SYSTEM_ACTOR, 'request.timedOut', r),
      ops.publish({ type: 'elevate.request.timedOut', detail: { requestId: r.id } }, now),
    ]);
  } catch (error) {
    if (error instanceof DomainError) return timeOutStep(deps, requestId);
    throw error;
  }
  const role = await requireRole(deps.store, r.roleId);
  await runEffects(deps, [
    {
      kind: 'mail',
      to: { principals: [r.principalId] },
      mail: mail.requestOutcome(factsOf(r, role.displayName, null), 'timed out'),
    },
  ]);
}

/** Workflow step `failed`: the workflow could not go on; the request must not stay pending forever. */
export async function failedStep(deps: Deps, requestId: string, error: unknown): Promise<void> {
  const r = await readRequest(deps.store, requestId).catch(() => undefined);
  if (!r || (r.status !== 'PendingApproval' && r.status !== 'Scheduled')) return;
  const step = failRequest(r, deps.clock.now(), `the workflow failed: ${JSON.stringify(error).slice(0, 500)}`);
  await deps.store.transact(step.writes);
  await runEffects(deps, step.effects);
}
