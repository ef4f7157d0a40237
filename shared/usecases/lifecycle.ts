import type { Deps } from '../deps.ts';
import { type AskedActivation, activationWindow, checkExtension, fitToEligibility } from '../domain/activation.ts';
import { closeCurrentStage } from '../domain/approval.ts';
import { type Assignment, checkStart, inForce, isLive } from '../domain/assignment.ts';
import { type Actor, type AuditDraft, eventOfChange, SYSTEM_ACTOR } from '../domain/audit.ts';
import { DomainError } from '../domain/errors.ts';
import type { RolePolicy } from '../domain/policy.ts';
import type { PrincipalRef } from '../domain/primitives.ts';
import { endingProvisioning } from '../domain/provisioning.ts';
import { holdsPending, transition } from '../domain/request.ts';
import type { Target } from '../domain/targets.ts';
import { newId } from '../ids.ts';
import { log } from '../log.ts';
import * as mail from '../notifications/templates.ts';
import type { LifecycleEvent } from '../ports/events.ts';
import { policy, retry, retryOn } from '../retry.ts';
import {
  guardsOf,
  keys,
  type LastUseRead,
  type LastUseRecord,
  ops,
  queries,
  type RequestRecord,
  type RoleRecord,
  type SlotLastUse,
  StandingMoved,
  stored,
  type WriteOp,
} from '../store/records.ts';
import { fromLiveSlot, readLive, toAssignment } from './assignments.ts';
import { auditEvent } from './context.ts';
import { type Effect, quiet, runEffects } from './effects.ts';
import { membershipJoinEffects, membershipJoins, membershipLeaves } from './group-provisioning.ts';
import { deprovisionEffect, deprovisionName, planProvisioning, releases } from './provisioning-steps.ts';
import { factsOf, newRequestRecord, readRequest, slotOf, targetOf, waitUntil } from './request-records.ts';
import { policyOfRequest, readRoleOfRequest, requireRole, resolvePolicy } from './roles.ts';
import { coveringInOrganization } from './scopes.ts';

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

/** Plans made again when an eligibility and its activations met (StandingMoved) before giving up with a 409. */
export const STANDING_ATTEMPTS = 4;

const audit = (
  now: Date,
  actor: Actor,
  action: string,
  r: RequestRecord,
  details: Record<string, unknown> = {},
  publishes: readonly LifecycleEvent[] = [],
) => ops.audit(auditEvent(now, actor, action, targetOf(r), details), publishes);

/** The slot's pending marker released, when the request holds one (see holdsPending in the domain). */
const releasePending = (r: RequestRecord): WriteOp[] =>
  holdsPending(r.action) ? [ops.deletePending(slotOf(r), r.id)] : [];

export async function principalName(deps: Deps, p: PrincipalRef): Promise<string | null> {
  const item = await deps.store.get(keys.principal(p), false);
  return item ? stored.principal.fromItem(item).displayName : null;
}

/**
 * The lifecycle event that says a role became active: published from the change's audit event (`ops.audit`, whose
 * target's request is `r` and whose details hold `a`), no outbox item of its own (issue 18).
 */
export const activatedEvent = (r: RequestRecord, a: Assignment): LifecycleEvent => ({
  type: 'elevate.assignment.activated',
  detail: { assignment: a, requestId: r.id },
});

/** The mail that says a role became active (to admins too when the role is privileged). */
export async function activatedEffects(
  deps: Deps,
  r: RequestRecord,
  a: Assignment,
  known?: { role: RoleRecord; policy: RolePolicy; principalName: Promise<string | null> },
): Promise<Effect[]> {
  const [role, { policy }, name] = known
    ? [known.role, known, await known.principalName]
    : await Promise.all([
        requireRole(deps.store, r.roleId),
        policyOfRequest(deps.store, r).then((policy) => ({ policy })),
        principalName(deps, r),
      ]);
  const facts = factsOf(r, role.displayName, name, a);
  const effects: Effect[] = [];
  if (!policy.notifications.criticalOnly) {
    effects.push({
      kind: 'mail',
      to: { principals: [r] },
      mail: mail.requestOutcome(facts, a.assignmentType === 'eligible' ? 'eligible' : 'granted'),
    });
  }
  if (role.privileged && a.assignmentType === 'active') {
    effects.push({
      kind: 'mail',
      to: { admins: true, addresses: policy.notifications.additionalRecipients },
      mail: mail.privilegedActivated(facts),
    });
  }
  // A member who joined a group that holds access provisioned in AWS: the group's grants provision them.
  effects.push(...(await membershipJoinEffects(deps, a, deps.clock.now())));
  return effects;
}

/**
 * The writes that carry out an approved (or due) request now: create the activation, move an extension's
 * end, or start a scheduled assignment. Re-checks that the eligibility still stands (and makes the transaction
 * conditional on it). Throws a DomainError when the request can no longer be granted (the caller then records it
 * as Failed): its eligibility ended, its window passed, or it is no longer the assignment's current request.
 * The request's write is guarded by `readVersion`: the version read, when `r` is already a step ahead of it.
 */
export async function grantNow(
  deps: Deps,
  r: RequestRecord,
  now: Date,
  actor: Actor,
  readVersion: number = r.version,
  known?: GrantKnown,
): Promise<Step & { assignment: Assignment; request: RequestRecord }> {
  const nowIso = now.toISOString();
  const granted: RequestRecord = { ...transition(r, 'Granted', now), version: r.version + 1, taskToken: null };
  const pending = releasePending(r);

  if (r.action === 'selfActivate') {
    const eligibility = await standingEligibility(deps, r, now, known?.slots);
    const assignment = activationOf(r, eligibility, now);
    const windowed = withWindow(granted, assignment);
    const holds = await provisioned(deps, windowed, assignment, now, known?.targets);
    const step = await grantNew(
      deps,
      readVersion,
      windowed,
      assignment,
      now,
      actor,
      pending,
      'assignment.activated',
      known,
    );
    return { ...step, writes: [...step.writes, ...holds, ops.activationStands(eligibility, assignment)] };
  }

  // Everything else acts on an existing assignment: start it, or move its end.
  const current = r.assignmentId ? await readAssignment(deps, r.assignmentId) : await readLive(deps.store, slotOf(r));
  if (!current || !isLive(current)) {
    if (r.action === 'selfRenew') {
      const renewed = renewalOf(r, now);
      const holds = await provisioned(deps, granted, renewed, now);
      const step = await grantNew(deps, readVersion, granted, renewed, now, actor, pending, 'assignment.renewed');
      return { ...step, writes: [...step.writes, ...holds] };
    }
    throw new DomainError('Conflict', 'the assignment this request acts on has ended');
  }
  granted.assignmentId = current.id;
  if (r.action === 'selfExtend' || r.action === 'selfRenew') {
    // An extension approved: the end moves; an activation's stops at its eligibility's end.
    let end = r.schedule.expiration.endDateTime;
    const stands: WriteOp[] = [];
    if (current.origin === 'activated') {
      const eligibility = current.eligibilityId ? await readAssignment(deps, current.eligibilityId) : undefined;
      const policy = await policyOfRequest(deps.store, r);
      end = checkExtension({
        policy,
        now,
        activation: current,
        eligibility: eligibility && isLive(eligibility) ? eligibility : null,
        requested: end ? new Date(end) : null,
      }).toISOString();
      if (eligibility) stands.push(ops.eligibilityStands(eligibility));
    }
    const updated: Assignment = {
      ...current,
      endDateTime: end,
      extensions: current.origin === 'activated' ? current.extensions + 1 : current.extensions,
      requestId: r.id,
      updatedAt: nowIso,
      version: current.version + 1,
    };
    return {
      assignment: updated,
      request: granted,
      writes: [
        ...ops.replaceAssignment(updated, current.version),
        ...stands,
        ...pending,
        ops.updateRequest(granted, readVersion),
        audit(now, actor, 'assignment.extended', granted, { before: current, after: updated }),
      ],
      effects: [],
    };
  }
  // The start of a scheduled assignment (adminAssign, adminRenew, or an adminUpdate that moved it): only by the
  // assignment's current request (a moved start supersedes the request of the old one), and only once it is due.
  checkStart(r.id, current, now);
  const updated: Assignment = { ...current, status: 'Active', updatedAt: nowIso, version: current.version + 1 };
  const holds = await provisioned(deps, granted, updated, now);
  return {
    assignment: updated,
    request: granted,
    writes: [
      ...ops.replaceAssignment(updated, current.version),
      ...holds,
      ...pending,
      ops.updateRequest(granted, readVersion),
      audit(now, actor, 'assignment.started', granted, { before: current, after: updated }, [
        activatedEvent(granted, updated),
      ]),
    ],
    effects: await activatedEffects(deps, granted, updated),
  };
}

/**
 * An active grant of a role with targets is made in AWS before it is Granted: the request goes Provisioning, the
 * assignment gets its targets (InProgress) and the grant's transaction holds what they need (provisioning-steps.ts).
 */
export async function provisioned(
  deps: Deps,
  granted: RequestRecord,
  a: Assignment,
  now: Date,
  knownTargets?: readonly Target[],
): Promise<WriteOp[]> {
  // A membership of a group that holds provisioned grants: the member's targets of those grants, held here.
  const joins = await membershipJoins(deps, a, now);
  // A role known to have no targets provisions nothing (planProvisioning would read them to find that out).
  if (knownTargets?.length === 0) return joins;
  const plan = await planProvisioning(deps, a, granted.id, now);
  if (!plan) return joins;
  a.provisioning = plan.provisioning;
  // A group-held grant with no member yet has nothing to make in AWS: Granted at once.
  if (plan.provisioning.status === 'InProgress') granted.status = 'Provisioning';
  return [...joins, ...plan.writes];
}

/** What an activation request asked for, as activationWindow reads it. */
export const askedOf = (r: RequestRecord): AskedActivation => ({
  askedAt: r.createdAt,
  startDateTime: r.schedule.startDateTime,
  endDateTime: r.schedule.expiration.endDateTime,
  duration: r.schedule.expiration.duration,
});

/** The granted request shows the window it was granted for (the asked duration stays on it). */
const withWindow = (r: RequestRecord, a: Assignment): RequestRecord => ({
  ...r,
  schedule: {
    startDateTime: a.startDateTime,
    expiration: { ...r.schedule.expiration, endDateTime: a.endDateTime },
  },
});

/** The active assignment an activation request makes when granted at `now` (its window: activationWindow). */
export function activationOf(r: RequestRecord, eligibility: Assignment, now: Date): Assignment {
  const nowIso = now.toISOString();
  const window = activationWindow(askedOf(r), eligibility, now);
  return {
    id: newId('asg', now),
    ...slotOf(r),
    principalType: r.principalType,
    origin: 'activated',
    status: 'Active',
    startDateTime: window.start.toISOString(),
    endDateTime: window.end.toISOString(),
    requestId: r.id,
    eligibilityId: eligibility.id,
    extensions: 0,
    justification: r.justification,
    createdAt: nowIso,
    updatedAt: nowIso,
    version: 1,
  };
}

/** The assignment an approved selfRenew makes when the old one has ended: from now to the end asked for. */
function renewalOf(r: RequestRecord, now: Date): Assignment {
  const nowIso = now.toISOString();
  return {
    id: newId('asg', now),
    ...slotOf(r),
    principalType: r.principalType,
    origin: 'assigned',
    status: 'Active',
    startDateTime: nowIso,
    endDateTime: r.schedule.expiration.endDateTime,
    requestId: r.id,
    eligibilityId: null,
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
  readVersion: number,
  granted: RequestRecord,
  assignment: Assignment,
  now: Date,
  actor: Actor,
  pending: WriteOp[],
  action: string,
  known?: GrantKnown,
): Promise<Step & { assignment: Assignment; request: RequestRecord }> {
  granted.assignmentId = assignment.id;
  return {
    assignment,
    request: granted,
    writes: [
      ...ops.createAssignment(assignment),
      ...pending,
      ops.updateRequest(granted, readVersion),
      audit(now, actor, action, granted, { assignment }, [activatedEvent(granted, assignment)]),
    ],
    effects: await activatedEffects(deps, granted, assignment, known),
  };
}

/**
 * What the grant of an activation reads, read all at once ahead of it (an approval that grants starts these beside
 * its own reads): the principal's live slots of the role (strongly consistent), the role, its targets and the
 * policy the request was decided under (one Query of the role's partition), the principal's name for the mail.
 */
export interface GrantKnown {
  slots: readonly Assignment[];
  targets: readonly Target[];
  role: RoleRecord;
  policy: RolePolicy;
  principalName: Promise<string | null>;
}

export async function readGrantKnown(deps: Deps, r: RequestRecord): Promise<GrantKnown> {
  const principal = quiet(principalName(deps, r));
  const [slots, ofRole] = await Promise.all([
    deps.store.all(queries.live(r, r.roleId)).then((items) => items.map(fromLiveSlot)),
    readRoleOfRequest(deps.store, r),
  ]);
  return { slots, ...ofRole, principalName: principal };
}

async function readAssignment(deps: Deps, id: string): Promise<Assignment | undefined> {
  const item = await deps.store.get(keys.assignment(id));
  return item ? toAssignment(item) : undefined;
}

/** The caller's eligibility that still stands and covers the request's scope, or NotEligible. */
export async function standingEligibility(
  deps: Deps,
  r: Pick<RequestRecord, 'principalType' | 'principalId' | 'roleId' | 'scope'>,
  now: Date,
  known?: readonly Assignment[],
): Promise<Assignment> {
  // The principal's live slots of the role as the caller read them (strongly consistent), or read now.
  const slots = known
    ? known.filter((a) => a.assignmentType === 'eligible')
    : (await deps.store.all(queries.live(r, r.roleId, 'eligible'))).map(fromLiveSlot);
  // An eligibility at an OU covers the accounts under it as the organization is now (organization-sync).
  const covering = await coveringInOrganization(deps.store, slots, r.scope);
  const eligibility = covering.find((a) => inForce(a, now));
  if (!eligibility) {
    throw new DomainError(
      'NotEligible',
      `you hold no eligible assignment of role '${r.roleId}' that covers '${r.scope}'`,
    );
  }
  return eligibility;
}

/**
 * A request that can no longer be carried out: Failed, its pending marker released, audited. Its write is guarded
 * by `readVersion`: the version read, when `r` is already a step ahead of it.
 */
export function failRequest(
  r: RequestRecord,
  now: Date,
  reason: string,
  actor: Actor = SYSTEM_ACTOR,
  readVersion: number = r.version,
): Step {
  const failed: RequestRecord = {
    ...transition(r, 'Failed', now),
    failureReason: reason,
    version: r.version + 1,
    taskToken: null,
  };
  return {
    writes: [
      ...releasePending(r),
      ops.updateRequest(failed, readVersion),
      audit(now, actor, 'request.failed', r, { reason }),
      ops.publish({ type: 'elevate.request.failed', detail: { requestId: r.id, reason } }, now),
    ],
    effects: [],
  };
}

/** Workflow step `grant`: at the start time, grant what was approved (or scheduled). */
export interface GrantResult {
  granted: boolean;
  waitUntil: string | null;
  /** The grant is being made in AWS: the workflow's `provision` step goes on with it. */
  provisioning?: boolean;
  waitSeconds?: number;
  assignmentId?: string;
}

export async function grantStep(deps: Deps, requestId: string): Promise<GrantResult> {
  const now = deps.clock.now();
  const r = await readRequest(deps.store, requestId);
  if (r.status === 'Provisioning' && r.assignmentId) {
    const a = await readAssignment(deps, r.assignmentId);
    return {
      granted: !!a && isLive(a),
      waitUntil: a ? waitUntil(a.endDateTime, now) : null,
      provisioning: true,
      waitSeconds: 0,
      assignmentId: r.assignmentId,
    };
  }
  if (r.status !== 'Scheduled') return grantOutcome(deps, r, now);
  if (Date.parse(r.schedule.startDateTime) > now.getTime()) {
    // Woken before the start (it never grants early): the request stays Scheduled; the reconcile job grants it.
    log('warn', 'grant step ran before the start; not granted', { requestId, start: r.schedule.startDateTime });
    return { granted: false, waitUntil: null };
  }
  try {
    const step = await grantNow(deps, r, now, SYSTEM_ACTOR);
    await deps.store.transact(step.writes);
    await runEffects(deps, step.effects);
    const provisioning = step.request.status === 'Provisioning';
    return {
      granted: true,
      waitUntil: waitUntil(step.assignment.endDateTime, now),
      ...(provisioning && { provisioning, waitSeconds: 0, assignmentId: step.assignment.id }),
    };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const fresh = await readRequest(deps.store, requestId);
    // Granted, canceled or failed meanwhile by someone else: that is the outcome.
    if (fresh.status !== 'Scheduled') return grantOutcome(deps, fresh, now);
    const step = failRequest(fresh, now, error.message);
    await deps.store.transact(step.writes);
    await runEffects(deps, step.effects);
    return { granted: false, waitUntil: null };
  }
}

/** What the grant step answers for a request that is no longer Scheduled (granted or ended by then). */
async function grantOutcome(
  deps: Deps,
  r: RequestRecord,
  now: Date,
): Promise<{ granted: boolean; waitUntil: string | null }> {
  if (r.status !== 'Granted') return { granted: false, waitUntil: null };
  const a = r.assignmentId ? await readAssignment(deps, r.assignmentId) : undefined;
  return { granted: !!a && isLive(a), waitUntil: a ? waitUntil(a.endDateTime, now) : null };
}

/**
 * A workflow step that found the state changed under it (a DomainError from its transaction: a deactivation, a
 * removal, the reconcile job, an extension came first) reads it again, a bounded number of times: the step then
 * fails with that error (final in the state machine), and the reconcile job does what is still due.
 */
const STEP_REREAD = policy(5, 20, 200);
const rereadOnConflict = retryOn(STEP_REREAD, (e) => e instanceof DomainError && e.code !== 'NotFound');

/** The assignment as it ends now: the record keeps it with its real end. */
function endedCopy(a: Assignment, now: Date, status: 'Expired' | 'Revoked'): Assignment {
  const nowIso = now.toISOString();
  const provisioning = endingProvisioning(a.provisioning, now);
  return {
    ...a,
    status,
    endDateTime: a.endDateTime && a.endDateTime < nowIso ? a.endDateTime : nowIso,
    updatedAt: nowIso,
    version: a.version + 1,
    ...(provisioning && { provisioning }),
  };
}

/**
 * The lifecycle event of an ended assignment: published from the audit event of its end (`ops.audit`, whose details
 * hold `a`), no outbox item of its own (issue 18).
 */
const endedEvent = (a: Assignment): LifecycleEvent => ({
  type: a.status === 'Expired' ? 'elevate.assignment.expired' : 'elevate.assignment.revoked',
  detail: { assignment: a },
});

/**
 * An eligibility's last use as read before its activations: the `LASTUSE` item activations wrote before issue 18
 * (undefined: none) and the one its live slot holds (null: none), when a caller read them already (a review's apply
 * reads those of a whole page in bulk, before planning its removals).
 */
export interface KnownLastUse {
  lastUse: LastUseRecord | undefined;
  slotUse: SlotLastUse | null;
}

async function readLastUse(deps: Deps, eligibility: Assignment): Promise<KnownLastUse> {
  const [lastUseItem, slotItem] = await Promise.all([
    deps.store.get(keys.lastUse(eligibility.id)),
    deps.store.get(keys.live(eligibility)),
  ]);
  return {
    lastUse: lastUseItem && stored.lastUse.fromItem(lastUseItem),
    slotUse: slotItem ? guardsOf(slotItem).lastUse : null,
  };
}

/**
 * The activations standing on an eligibility that changes (`after`) or ends (`after` null), fitted to it
 * (fitToEligibility): ended or moved back to its end, each audited, with the guard that no activation of it is
 * made while this transaction is planned. The last use is read before the activations, so one made in between
 * fails the guard rather than escaping it: `lastUse` as the eligibility's live slot holds it (the caller's write of
 * the slot is conditional on it: ops.endAssignments, ops.replaceAssignment), and the `LASTUSE` item activations
 * wrote before issue 18 (`ops.noNewActivations`, in `writes`).
 */
export async function activationsFitted(
  deps: Deps,
  eligibility: Assignment,
  after: Assignment | null,
  now: Date,
  actor: Actor,
  known?: KnownLastUse,
): Promise<{ endings: [Assignment, number][]; writes: WriteOp[]; effects: Effect[]; lastUse: LastUseRead }> {
  const { lastUse, slotUse } = known ?? (await readLastUse(deps, eligibility));
  const live = await deps.store.all(queries.live(eligibility, eligibility.roleId, 'active'));
  const standing = live.map(fromLiveSlot).filter((a) => a.origin === 'activated' && a.eligibilityId === eligibility.id);
  const endings: [Assignment, number][] = [];
  const writes: WriteOp[] = [ops.noNewActivations(eligibility.id, lastUse)];
  const effects: Effect[] = [];
  const why = { eligibilityId: eligibility.id, reason: after ? 'the eligibility changed' : 'the eligibility ended' };
  for (const a of standing) {
    const fit = fitToEligibility(a, after, now);
    const target = {
      principalId: a.principalId,
      roleId: a.roleId,
      scope: a.scope,
      assignmentId: a.id,
      requestId: a.requestId,
    };
    if (fit.kind === 'end') {
      const ended = endedCopy(a, now, fit.status);
      endings.push([ended, a.version]);
      const action = fit.status === 'Expired' ? 'assignment.expired' : 'assignment.revoked';
      const left = await membershipLeaves(deps, a, now);
      writes.push(
        ops.audit(auditEvent(now, actor, action, target, { assignment: ended, ...why }), [endedEvent(ended)]),
        ...releases(a),
        ...left.writes,
      );
      effects.push(...deprovisionEffect(ended, now), ...left.effects);
    } else if (fit.kind === 'clamp') {
      const moved: Assignment = {
        ...a,
        endDateTime: fit.endDateTime,
        updatedAt: now.toISOString(),
        version: a.version + 1,
      };
      writes.push(
        ...ops.replaceAssignment(moved, a.version),
        ops.audit(auditEvent(now, actor, 'assignment.updated', target, { before: a, after: moved, ...why })),
      );
    }
  }
  return { endings, writes, effects, lastUse: slotUse && { assignmentId: slotUse.assignmentId } };
}

/**
 * A change whose audit event is still to be written: by `recorded`, or folded with the request the change creates
 * (`eventOfChange`: one audit event per change). `publishes`: the lifecycle events its audit event is.
 */
export interface Change extends Step {
  event: AuditDraft & { publishes: LifecycleEvent[] };
}

/** A change's writes with its audit event, by `actor` at `now`. */
const recorded = (change: Change, now: Date, actor: Actor): WriteOp[] => [
  ...change.writes,
  ops.audit(
    auditEvent(now, actor, change.event.action, change.event.target, change.event.details),
    change.event.publishes,
  ),
];

/**
 * Ends a live assignment now (Expired at its end, or Revoked/deactivated before it). An eligibility takes the
 * activations standing on it along, in the same transaction.
 */
export async function endWrites(
  deps: Deps,
  a: Assignment,
  now: Date,
  status: 'Expired' | 'Revoked',
  actor: Actor,
  action: string,
): Promise<Step> {
  const change = await endChange(deps, a, now, status, actor, action);
  return { writes: recorded(change, now, actor), effects: change.effects };
}

/**
 * The end of a live assignment (endWrites) with its audit event apart (`event`: `action`, the ended assignment,
 * also its lifecycle event `elevate.assignment.expired` or `.revoked`), for a change that records a request in it:
 * `r`, the request that ends it, named by the event's target.
 */
export async function endChange(
  deps: Deps,
  a: Assignment,
  now: Date,
  status: 'Expired' | 'Revoked',
  actor: Actor,
  action: string,
  r?: RequestRecord,
  known?: KnownLastUse,
): Promise<Change> {
  const ended = endedCopy(a, now, status);
  const target = {
    principalId: a.principalId,
    roleId: a.roleId,
    scope: a.scope,
    assignmentId: a.id,
    requestId: r?.id ?? a.requestId,
  };
  const dependents =
    a.assignmentType === 'eligible'
      ? await activationsFitted(deps, a, null, now, actor, known)
      : { endings: [], writes: [], effects: [], lastUse: undefined };
  // A member who leaves a group that holds provisioned grants: their targets of those grants are let go of.
  const left = await membershipLeaves(deps, a, now);
  return {
    writes: [
      ...ops.endAssignments([[ended, a.version, dependents.lastUse], ...dependents.endings]),
      // What it held in AWS is let go of with the end, and taken away after it (provisioning-steps.ts).
      ...releases(a),
      ...left.writes,
      ...dependents.writes,
    ],
    effects: [...deprovisionEffect(ended, now), ...left.effects, ...dependents.effects],
    event: { action, target, details: { assignment: ended }, publishes: [endedEvent(ended)] },
  };
}

/**
 * The removal of a live assignment (adminRemove, and a review's denial): an `adminRemove` request,
 * Revoked, with the assignment ended now and its live slot freed, all audited in one transaction.
 */
export async function removalPlan(
  deps: Deps,
  actor: Actor,
  now: Date,
  a: Assignment,
  justification: string | null,
  policyScope?: string,
  known?: KnownLastUse,
): Promise<{ request: RequestRecord; step: Change }> {
  const decidedUnder = policyScope ?? (await resolvePolicy(deps.store, a.roleId, a.scope)).scope;
  const request = newRequestRecord(
    actor,
    now,
    {
      action: 'adminRemove',
      assignmentType: a.assignmentType,
      principalType: a.principalType,
      roleId: a.roleId,
      scope: a.scope,
      policyScope: decidedUnder,
      justification: justification ?? undefined,
      ticket: undefined,
    },
    a.principalId,
    { start: now, end: now },
    { type: 'afterDateTime', endDateTime: now.toISOString() },
    'Revoked',
  );
  request.assignmentId = a.id;
  return { request, step: await endChange(deps, a, now, 'Revoked', actor, 'assignment.revoked', request, known) };
}

/**
 * The whole transaction of a removal planned by removalPlan: its request created and recorded in the removal's
 * one audit event (`assignment.revoked`, also the lifecycle event `elevate.assignment.revoked`).
 */
export const removalWrites = (plan: { request: RequestRecord; step: Change }, now: Date, actor: Actor): WriteOp[] => {
  const created = { target: targetOf(plan.request), request: plan.request };
  const event = eventOfChange(created, plan.step.event);
  return [
    ...plan.step.writes,
    ops.createRequest(plan.request),
    ops.audit(auditEvent(now, actor, event.action, event.target, event.details), plan.step.event.publishes),
  ];
};

/** Removes a live assignment now (a review's denial): the same writes and effects as adminRemove. */
export async function removeAssignment(
  deps: Deps,
  actor: Actor,
  a: Assignment,
  justification: string | null,
): Promise<RequestRecord> {
  for (let attempt = 1; ; attempt++) {
    const now = deps.clock.now();
    const plan = await removalPlan(deps, actor, now, a, justification);
    const { request, step } = plan;
    try {
      await deps.store.transact(removalWrites(plan, now, actor));
    } catch (error) {
      // An activation of the eligibility was made meanwhile: plan again, with it.
      if (error instanceof StandingMoved && attempt < STANDING_ATTEMPTS) continue;
      throw error;
    }
    await runEffects(deps, step.effects);
    return request;
  }
}

/** Workflow step `expire`: at the end time, expire the assignment, unless its end moved (then wait again). */
export interface ExpireResult {
  expired: boolean;
  waitUntil: string | null;
  /** The ended grant is being taken away in AWS: the workflow's `deprovision` step goes on with it. */
  deprovisioning?: boolean;
  waitSeconds?: number;
  assignmentId?: string;
}

export function expireStep(deps: Deps, requestId: string): Promise<ExpireResult> {
  return retry(() => expireOnce(deps, requestId), rereadOnConflict);
}

async function expireOnce(deps: Deps, requestId: string): Promise<ExpireResult> {
  const now = deps.clock.now();
  const r = await readRequest(deps.store, requestId);
  const a = r.assignmentId ? await readAssignment(deps, r.assignmentId) : undefined;
  if (!a || !isLive(a)) return { expired: true, waitUntil: null };
  if (a.endDateTime === null) return { expired: true, waitUntil: null };
  if (Date.parse(a.endDateTime) > now.getTime()) return { expired: false, waitUntil: waitUntil(a.endDateTime, now) };
  const step = await endWrites(deps, a, now, 'Expired', SYSTEM_ACTOR, 'assignment.expired');
  await deps.store.transact(step.writes);
  // This execution takes the access away in AWS itself (no second execution for it).
  const own = deprovisionName(a.id);
  await runEffects(
    deps,
    step.effects.filter((e) => !(e.kind === 'startWorkflow' && e.name === own)),
  );
  if (a.provisioning?.targets.length) {
    return { expired: true, waitUntil: null, deprovisioning: true, waitSeconds: 0, assignmentId: a.id };
  }
  return { expired: true, waitUntil: null };
}

/** Workflow step `timedOut` (and the reconcile job): a stage's time ran out before it was decided. */
export async function timeOutStep(deps: Deps, requestId: string): Promise<void> {
  const r = await retry(() => timeOutOnce(deps, requestId), rereadOnConflict);
  if (!r) return;
  const role = await requireRole(deps.store, r.roleId);
  await runEffects(deps, [
    {
      kind: 'mail',
      to: { principals: [r] },
      mail: mail.requestOutcome(factsOf(r, role.displayName, null), 'timed out'),
    },
    { kind: 'slack', requestId: r.id },
  ]);
}

/** The request timed out now, or undefined when it no longer waits for a decision. */
async function timeOutOnce(deps: Deps, requestId: string): Promise<RequestRecord | undefined> {
  const now = deps.clock.now();
  const r = await readRequest(deps.store, requestId);
  if (r.status !== 'PendingApproval') return undefined;
  const timedOut: RequestRecord = {
    ...transition(r, 'TimedOut', now),
    approval: closeCurrentStage(r.approval, 'TimedOut'),
    version: r.version + 1,
    taskToken: null,
  };
  await deps.store.transact([
    ...releasePending(r),
    ops.updateRequest(timedOut, r.version),
    audit(now, SYSTEM_ACTOR, 'request.timedOut', r),
    ops.publish({ type: 'elevate.request.timedOut', detail: { requestId: r.id } }, now),
  ]);
  return r;
}

/** Workflow step `failed`: the workflow could not go on; the request must not stay pending forever. */
export async function failedStep(deps: Deps, requestId: string, error: unknown): Promise<void> {
  const r = await readRequest(deps.store, requestId).catch(() => undefined);
  if (!r || (r.status !== 'PendingApproval' && r.status !== 'Scheduled')) return;
  const step = failRequest(r, deps.clock.now(), `the workflow failed: ${JSON.stringify(error).slice(0, 500)}`);
  await deps.store.transact(step.writes);
  await runEffects(deps, step.effects);
}
