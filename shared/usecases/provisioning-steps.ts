import type { Deps, ProvisioningPorts } from '../deps.ts';
import { type Assignment, isLive } from '../domain/assignment.ts';
import { SYSTEM_ACTOR } from '../domain/audit.ts';
import { DomainError } from '../domain/errors.ts';
import { executionHorizon, waitTimestamp } from '../domain/execution.ts';
import {
  failedMember,
  holderOf,
  holdsByRef,
  OPERATION_DEADLINE_MS,
  overallStatus,
  type ProvisionedTarget,
  type Provisioning,
  plannedTargets,
  pollDelaySeconds,
  presentProvisioning,
  targetSettled,
  targetWanted,
} from '../domain/provisioning.ts';
import { provisioningAccount } from '../domain/targets.ts';
import { errorFields, log } from '../log.ts';
import type { OperationStatus } from '../ports/identity-center.ts';
import type { WorkflowInput } from '../ports/workflow.ts';
import {
  type AwsRefRecord,
  keys,
  ops,
  queries,
  RefMoved,
  type RequestRecord,
  stored,
  type WriteOp,
} from '../store/records.ts';
import { raise, readAlertSettings } from './alerts.ts';
import { toAssignment } from './assignments.ts';
import { auditEvent } from './context.ts';
import { type Effect, runEffects } from './effects.ts';
import { fenceSession } from './fence.ts';
import { memberRollbackWrites, planGroupProvisioning } from './group-provisioning.ts';
import { endWrites } from './lifecycle.ts';
import { identityCenterUserId, readTargets } from './provisioning.ts';
import { readRequest, targetOf, waitUntil } from './request-records.ts';

/**
 * Provisioning in the workflow (provisioning.md, "States"): a grant of a role with targets holds a reference to
 * each AWS account assignment or membership it needs (in the grant's transaction), and the workflow's `provision`
 * step moves each target on, one AWS call at a time, until it is there (live) or gone (ended).
 *
 * Each AWS assignment has one reference item (records.ts `awsRef`): the grants that hold it, and what Elevate
 * knows of it in AWS (`absent → creating → present → deleting → absent`, each move conditional on the state and
 * owner read). A grant creates it only from `absent` and deletes it only from `present` when nobody holds it and
 * it was not there before Elevate: under any race it is never deleted while a grant holds it (the hold and the
 * claim to delete are conditional on each other), and the last grant to let go always sees nobody holding it
 * (it reads after its own release). Every step re-reads and is a no-op when its move already happened.
 */
export interface ProvisionResult {
  assignmentId: string;
  /** Every target is settled (there, gone, kept, or failed). */
  done: boolean;
  /** Seconds until the next look (when not done). */
  waitSeconds: number;
  /** The assignment is live and provisioned: its end is to be kept. */
  granted: boolean;
  waitUntil: string | null;
}

/**
 * The provisioning of a grant about to be made (active, of a role with targets): its targets InProgress, and the
 * holds on what they need, for the grant's transaction; a grant held by a group, one set per active member
 * (group-provisioning.ts). Undefined when nothing is provisioned. Throws TargetNotReady / ScopeNotProvisionable
 * when AWS cannot carry the grant (the caller fails the request).
 */
export async function planProvisioning(
  deps: Pick<Deps, 'provisioning' | 'store' | 'config'>,
  a: Assignment,
  requestId: string,
  now: Date,
): Promise<{ provisioning: Provisioning; writes: WriteOp[] } | undefined> {
  if (a.assignmentType !== 'active') return undefined;
  const targets = (await readTargets(deps.store, a.roleId))?.targets ?? [];
  if (targets.length === 0) return undefined;
  if (!deps.provisioning) throw new DomainError('TargetNotReady', 'IAM Identity Center is not configured');
  const account = provisioningAccount(targets, a.scope);
  if (account === null) {
    throw new DomainError('ScopeNotProvisionable', `the scope '${a.scope}' names no account to provision into`);
  }
  if (a.principalType === 'group') {
    return planGroupProvisioning(deps, deps.provisioning, a, targets, account ?? null, requestId, now);
  }
  const { userId, lookedUp } = await identityCenterUserId(deps, deps.provisioning, a.principalId);
  if (!userId) throw new DomainError('TargetNotReady', `no IAM Identity Center user ${lookedUp}`);
  const planned = plannedTargets(targets, account ?? null, userId, now);
  return {
    provisioning: { status: 'InProgress', targets: planned, requestId },
    writes: planned.map((t) => ops.holdRef(t.refId, a.id)),
  };
}

/**
 * The holds an ending grant lets go of, in its ending transaction (one write per reference item; the targets of a
 * group-held grant's former members were let go of when they left).
 */
export const releases = (a: Assignment): WriteOp[] =>
  [
    ...holdsByRef(
      a.id,
      (a.provisioning?.targets ?? []).filter((t) => !t.released),
    ),
  ].map(([refId, holders]) => ops.releaseRef(refId, holders));

/** The execution that takes an ended grant's access away in AWS (started after the ending commits). */
export const deprovisionName = (assignmentId: string) => `${assignmentId}-end`;

export function deprovisionEffect(a: Assignment, now: Date): Effect[] {
  if (!a.provisioning?.targets.length) return [];
  return [{ kind: 'startWorkflow', name: deprovisionName(a.id), input: stepInput(a, now) }];
}

/** An execution that starts at the `provision` step (a live grant) or the `deprovision` step (an ended one). */
function stepInput(a: Assignment, now: Date): WorkflowInput {
  const base = {
    requestId: a.provisioning?.requestId ?? a.requestId ?? a.id,
    startDateTime: waitTimestamp(a.startDateTime),
    horizon: executionHorizon(now),
    stage: 0,
    stageTimeoutSeconds: 0,
    endDateTime: a.endDateTime,
    stages: [],
  };
  if (isLive(a)) {
    return {
      ...base,
      phase: 'provision',
      grant: {
        granted: true,
        waitUntil: waitUntil(a.endDateTime, now),
        provisioning: true,
        waitSeconds: 0,
        assignmentId: a.id,
      },
    };
  }
  return {
    ...base,
    phase: 'deprovision',
    expiry: { expired: true, waitUntil: null, deprovisioning: true, waitSeconds: 0, assignmentId: a.id },
  };
}

/** How long a grant's provisioning may stand still before the reconcile job takes it up (past any poll's deadline). */
export const STALLED_MS = 20 * 60_000;

/**
 * The reconcile job's part: grants still Provisioning, and grants ended in the last 2 days still Deprovisioning,
 * whose targets have not moved for STALLED_MS (their execution gave up, or was never started): a new execution
 * carries each on. Returns how many were taken up.
 */
export async function resumeProvisioning(deps: Deps, outOfTime: () => boolean): Promise<number> {
  const now = deps.clock.now();
  const before = new Date(now.getTime() - STALLED_MS).toISOString();
  const ids = await stalledCandidates(deps, now, before, outOfTime);
  let resumed = 0;
  for (const id of ids) {
    if (outOfTime()) break;
    const a = await readAssignment(deps, id);
    if (!a || !isStalled(a, before)) continue;
    // A new execution carries it on (the job itself makes no call to Identity Center).
    await runEffects(deps, [
      { kind: 'startWorkflow', name: `${id}-resume-${Math.floor(now.getTime() / 60_000)}`, input: stepInput(a, now) },
    ]);
    resumed++;
  }
  return resumed;
}

/** The assignments of the grants still Provisioning, and of the grants ended in the last 2 days still Deprovisioning. */
async function stalledCandidates(
  deps: Deps,
  now: Date,
  before: string,
  outOfTime: () => boolean,
): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const item of deps.store.stream(queries.requestsByStatus('Provisioning'))) {
    if (outOfTime()) break;
    const r = stored.request.fromItem(item);
    if (r.assignmentId) ids.add(r.assignmentId);
  }
  const from = new Date(now.getTime() - 2 * 86_400_000).toISOString();
  for (const status of ['Expired', 'Revoked']) {
    for await (const item of deps.store.stream(queries.assignmentsEndedBetween(status, from, before))) {
      if (outOfTime()) break;
      const a = toAssignment(item);
      if (a.provisioning?.status === 'Deprovisioning') ids.add(a.id);
    }
  }
  return ids;
}

/**
 * Whether a grant's provisioning stands still with work left (InProgress, Deprovisioning, a live grant Failed, or a
 * live grant with a member's target still to move), none of its targets moved since `before`.
 */
function isStalled(a: Assignment, before: string): boolean {
  const p = a.provisioning;
  if (!p) return false;
  const live = isLive(a);
  const memberLeft = live && p.targets.some((t) => !targetSettled(t.status, targetWanted(t, true)));
  const unfinished =
    p.status === 'InProgress' || p.status === 'Deprovisioning' || (p.status === 'Failed' && live) || memberLeft;
  return unfinished && !p.targets.some((t) => t.updatedAt >= before);
}

/** A move made (with the assignment as it now is), a wait for AWS or another grant, or nothing left to do. */
type Outcome = { kind: 'moved'; a: Assignment } | { kind: 'wait'; seconds: number } | { kind: 'settled' };
const SETTLED: Outcome = { kind: 'settled' };

async function readAssignment(deps: Deps, id: string): Promise<Assignment | undefined> {
  const item = await deps.store.get(keys.assignment(id));
  return item ? toAssignment(item) : undefined;
}

async function readRef(deps: Deps, refId: string): Promise<AwsRefRecord | undefined> {
  const item = await deps.store.get(keys.awsRef(refId));
  return item ? stored.awsRef.fromItem(item) : undefined;
}

/** An AWS error as a target's failure reason (a FAILED status gives its own). */
const reasonOf = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 1000) : String(error).slice(0, 1000);

/** AWS answered (an error of the service or of the retries): a reason. Anything else (DynamoDB) goes up. */
async function aws<T>(call: () => Promise<T>): Promise<{ ok: T } | { error: string }> {
  try {
    return { ok: await call() };
  } catch (error) {
    if (error instanceof RefMoved || error instanceof DomainError) throw error;
    log('warn', 'identity center call failed', errorFields(error));
    return { error: reasonOf(error) };
  }
}

const assignmentOf = (t: ProvisionedTarget) => ({
  accountId: t.accountId as string,
  permissionSetArn: t.permissionSetArn as string,
  principalId: t.identityCenterUserId,
  principalType: 'USER' as const,
});

async function existsInAws(ports: ProvisioningPorts, t: ProvisionedTarget): Promise<boolean> {
  if (t.type === 'identityCenterGroupMembership') {
    return (await ports.identityStore.membershipId(t.groupId as string, t.identityCenterUserId)) !== null;
  }
  const found = await ports.identityCenter.listAccountAssignments(t.accountId as string, t.permissionSetArn as string);
  return found.some((x) => x.principalType === 'USER' && x.principalId === t.identityCenterUserId);
}

/**
 * One move of one target, committed with the move of its reference (when there is one) and, when the assignment's
 * status changes with it, the request, audit event and lifecycle event of that change.
 */
async function commit(
  deps: Deps,
  a: Assignment,
  index: number,
  patch: Partial<ProvisionedTarget>,
  refMove: WriteOp | undefined,
  now: Date,
): Promise<Outcome> {
  const p = a.provisioning as Provisioning;
  const live = isLive(a);
  const wanted = targetWanted(p.targets[index] ?? {}, live);
  const nowIso = now.toISOString();
  const targets = p.targets.map((t, i) => (i === index ? { ...t, ...patch, updatedAt: nowIso } : t));
  const status = overallStatus(targets, live);
  const updated: Assignment = {
    ...a,
    provisioning: { ...p, status, targets },
    updatedAt: nowIso,
    version: a.version + 1,
  };
  const moved = () => new RefMoved(`assignment '${a.id}' changed while it was provisioned`);
  const writes: WriteOp[] = live
    ? ops.replaceAssignment(updated, a.version).map((w) => ({ ...w, onConflict: moved }))
    : [ops.replaceEndedAssignment(updated, a.version)];
  if (refMove) writes.push(refMove);
  const target = {
    principalId: a.principalId,
    roleId: a.roleId,
    scope: a.scope,
    assignmentId: a.id,
    requestId: p.requestId,
  };
  const shown = presentProvisioning(updated.provisioning);
  let alert: string | undefined;
  if (status !== p.status) {
    if (live && status === 'Provisioned') {
      const r = p.requestId ? await readRequest(deps.store, p.requestId).catch(() => undefined) : undefined;
      if (r?.status === 'Provisioning') {
        const granted: RequestRecord = { ...r, status: 'Granted', version: r.version + 1 };
        writes.push({ ...ops.updateRequest(granted, r.version), onConflict: moved });
      }
      writes.push(
        ops.audit(auditEvent(now, SYSTEM_ACTOR, 'assignment.provisioned', target, { provisioning: shown })),
        ops.publish(
          {
            type: 'elevate.assignment.provisioned',
            detail: { assignmentId: a.id, requestId: p.requestId, provisioning: shown },
          },
          now,
        ),
      );
    } else if (!live && status === 'Deprovisioned') {
      writes.push(
        ops.audit(auditEvent(now, SYSTEM_ACTOR, 'assignment.deprovisioned', target, { provisioning: shown })),
        ops.publish(
          { type: 'elevate.assignment.deprovisioned', detail: { assignmentId: a.id, provisioning: shown } },
          now,
        ),
      );
    }
  }
  if (!wanted && patch.status === 'Failed') {
    // A removal that AWS refused: the access is still there. (A failed grant is rolled back: see rollback.)
    alert = patch.failureReason ?? 'the removal failed';
    writes.push(
      ops.audit(
        auditEvent(now, SYSTEM_ACTOR, 'assignment.provisioningFailed', target, {
          phase: 'deprovision',
          failureReason: alert,
          provisioning: shown,
        }),
      ),
      ops.publish(
        {
          type: 'elevate.assignment.provisioningFailed',
          detail: { assignmentId: a.id, phase: 'deprovision', failureReason: alert, provisioning: shown },
        },
        now,
      ),
    );
  }
  await deps.store.transact(writes);
  if (alert !== undefined) await raiseFailed(deps, a, alert, p.targets[index]?.principalId);
  return { kind: 'moved', a: updated };
}

/** The `provisioningFailed` alert (high): raised at once, as the workflow sees the failure. */
async function raiseFailed(deps: Deps, a: Assignment, reason: string, member?: string): Promise<void> {
  const settings = await readAlertSettings(deps);
  if (!settings.provisioningFailed.enabled) return;
  await raise(
    deps,
    {
      type: 'provisioningFailed',
      subject: member ? `${a.id}:${member}` : a.id,
      affected: [{ assignmentId: a.id, principalId: a.principalId, roleId: a.roleId, scope: a.scope }],
      details: { failureReason: reason, ...(member && { member }) },
    },
    settings,
  ).catch((error: unknown) => log('warn', 'could not raise provisioningFailed', errorFields(error)));
}

/** How long to wait for an operation that another grant (or AWS) has in flight. */
const waitOn = (since: string | null | undefined, now: Date): Outcome => ({
  kind: 'wait',
  seconds: pollDelaySeconds(since ? now.getTime() - Date.parse(since) : 0),
});

/**
 * The session fence of an account assignment this grant removed (provisioning.md, "Sessions end when access
 * ends"): a Deny on sessions of that user in that account issued before the access ended. `fenceSession` never
 * throws (a failure raises `sessionFenceFailed`), so the removal stands whatever happens to the fence.
 */
async function fenceRemoved(
  deps: Deps,
  ports: ProvisioningPorts,
  a: Assignment,
  t: ProvisionedTarget,
  now: Date,
): Promise<void> {
  const ended = a.endDateTime && Date.parse(a.endDateTime) < now.getTime() ? a.endDateTime : now.toISOString();
  // A group-held grant's target is its member's.
  let userName: string | null = t.principalId ?? a.principalId;
  if (deps.config.identityCenter?.userAttribute === 'email') {
    const named = await aws(() => ports.identityStore.userName(t.identityCenterUserId));
    userName = 'ok' in named ? named.ok : null;
  }
  await fenceSession(deps, {
    permissionSetArn: t.permissionSetArn as string,
    accountId: t.accountId as string,
    // Unknown (the user is gone, or the lookup failed): fenceSession refuses it loudly (sessionFenceFailed).
    userName: userName ?? '',
    end: ended,
    requestId: a.provisioning?.requestId ?? a.requestId ?? a.id,
    principalId: t.principalId ?? a.principalId,
  });
}

/** A creation or a deletion in Identity Center: the calls that start it and look at it, for either kind of target. */
interface Operation {
  noun: 'creation' | 'deletion';
  start(ports: ProvisioningPorts, t: ProvisionedTarget): Promise<OperationStatus>;
  describe(ports: ProvisioningPorts, requestId: string): Promise<OperationStatus>;
  /** A membership is made or taken away at once (no request to follow): its end. */
  membership(ports: ProvisioningPorts, t: ProvisionedTarget): Promise<OperationStatus>;
}

const ended = (failureReason: string | null): OperationStatus => ({
  requestId: '',
  status: failureReason === null ? 'SUCCEEDED' : 'FAILED',
  failureReason,
});

const CREATION: Operation = {
  noun: 'creation',
  start: (ports, t) => ports.identityCenter.createAccountAssignment(assignmentOf(t)),
  describe: (ports, id) => ports.identityCenter.describeAssignmentCreation(id),
  async membership(ports, t) {
    const made = await aws(() => ports.identityStore.createMembership(t.groupId as string, t.identityCenterUserId));
    // Already a member (ConflictException): what was asked for is there.
    return ended('ok' in made || made.error.startsWith('ConflictException') ? null : made.error);
  },
};

const DELETION: Operation = {
  noun: 'deletion',
  start: (ports, t) => ports.identityCenter.deleteAccountAssignment(assignmentOf(t)),
  describe: (ports, id) => ports.identityCenter.describeAssignmentDeletion(id),
  async membership(ports, t) {
    const id = await aws(() => ports.identityStore.membershipId(t.groupId as string, t.identityCenterUserId));
    if ('error' in id) return ended(id.error);
    if (id.ok === null) return ended(null);
    const gone = await aws(() => ports.identityStore.deleteMembership(id.ok as string));
    return ended('error' in gone ? gone.error : null);
  },
};

/**
 * This grant's operation on a target one step on: started (its request id to record), still running within its
 * deadline (wait), or ended (SUCCEEDED or FAILED; an AWS error and a deadline passed count as FAILED).
 */
async function operate(
  ports: ProvisioningPorts,
  t: ProvisionedTarget,
  op: Operation,
  now: Date,
): Promise<{ kind: 'started'; requestId: string } | { kind: 'wait' } | { kind: 'ended'; status: OperationStatus }> {
  if (t.type === 'identityCenterGroupMembership') return { kind: 'ended', status: await op.membership(ports, t) };
  const seen = await aws(() => (t.operationId ? op.describe(ports, t.operationId) : op.start(ports, t)));
  if ('error' in seen) return { kind: 'ended', status: ended(seen.error) };
  if (seen.ok.status !== 'IN_PROGRESS') return { kind: 'ended', status: seen.ok };
  if (!t.operationId) return { kind: 'started', requestId: seen.ok.requestId };
  if (now.getTime() - Date.parse(t.operationStartedAt ?? now.toISOString()) < OPERATION_DEADLINE_MS)
    return { kind: 'wait' };
  return { kind: 'ended', status: ended(`the ${op.noun} did not finish within 15 minutes`) };
}

/** What one move of one target works with (advanceTarget). */
interface TargetMove {
  deps: Deps;
  ports: ProvisioningPorts;
  a: Assignment;
  t: ProvisionedTarget;
  /** The target is to be there (a group-held grant's member may have left: then it is to go). */
  live: boolean;
  ref: AwsRefRecord | undefined;
  holder: string;
  now: Date;
  /** Moves the target's reference from a state to another, stamped now. */
  move(from: Parameters<typeof ops.moveRef>[1], to: Omit<Parameters<typeof ops.moveRef>[2], 'at'>): WriteOp;
  /** Commits the target's patch (and the reference's move). */
  set(patch: Partial<ProvisionedTarget>, refMove?: WriteOp): Promise<Outcome>;
}

/** One target one move further (or the time to wait before the next look). */
async function advanceTarget(
  deps: Deps,
  ports: ProvisioningPorts,
  a: Assignment,
  i: number,
  now: Date,
): Promise<Outcome> {
  const t = (a.provisioning as Provisioning).targets[i] as ProvisionedTarget;
  const live = targetWanted(t, isLive(a));
  if (targetSettled(t.status, live)) return SETTLED;
  const ref = await readRef(deps, t.refId);
  const state = ref?.state ?? 'absent';
  const holder = holderOf(a.id, t);
  const mine = ref?.owner === holder;
  const at = now.toISOString();
  const m: TargetMove = {
    deps,
    ports,
    a,
    t,
    live,
    ref,
    holder,
    now,
    move: (from, to) => ops.moveRef(t.refId, from, { ...to, at }),
    set: (patch, refMove) => commit(deps, a, i, patch, refMove, now),
  };
  const membership = t.type === 'identityCenterGroupMembership';
  if (state === 'creating' && mine && !live && (membership || !t.operationId)) return abandonCreation(m);
  if ((state === 'creating' || state === 'deleting') && mine) return carryOperation(m, state);
  // Another grant's creation or deletion is in flight: wait for it to end.
  if (state === 'creating' || state === 'deleting') return waitOn(ref?.updatedAt, now);
  return live ? provide(m, state) : release(m, state);
}

/** Claimed for a creation that was never asked of AWS (or whose answer was lost), and no longer wanted. */
async function abandonCreation(m: TargetMove): Promise<Outcome> {
  const there = await aws(() => existsInAws(m.ports, m.t));
  if ('error' in there) return waitOn(m.t.operationStartedAt, m.now);
  return m.set(
    there.ok ? { operationId: null } : { status: 'Deprovisioned', operationId: null },
    m.move({ state: 'creating', owner: m.holder }, { state: there.ok ? 'present' : 'absent', owner: null }),
  );
}

/** The target's patch once its creation ended: wanted or not, succeeded or not. */
function createdPatch(succeeded: boolean, live: boolean, failureReason: string | null): Partial<ProvisionedTarget> {
  if (succeeded) return live ? { status: 'Provisioned', operationId: null } : { operationId: null };
  if (live) return { status: 'Failed', failureReason: failureReason ?? 'FAILED', operationId: null };
  return { status: 'Deprovisioned', operationId: null };
}

/** This grant's creation or deletion: start it, or look at it, and record how it ended. */
async function carryOperation(m: TargetMove, state: 'creating' | 'deleting'): Promise<Outcome> {
  const { t, now, holder } = m;
  const op = await operate(m.ports, t, state === 'creating' ? CREATION : DELETION, now);
  if (op.kind === 'started') return m.set({ operationId: op.requestId, operationStartedAt: now.toISOString() });
  if (op.kind === 'wait') return waitOn(t.operationStartedAt, now);
  const succeeded = op.status.status === 'SUCCEEDED';
  if (state === 'creating') {
    return m.set(
      createdPatch(succeeded, m.live, op.status.failureReason),
      m.move({ state, owner: holder }, { state: succeeded ? 'present' : 'absent', owner: null }),
    );
  }
  // Sessions already issued outlive the assignment: fence them before the removal is recorded (a retry fences
  // again, which merges into the same statement), so a crash between the two never leaves them running.
  if (succeeded && t.type !== 'identityCenterGroupMembership') await fenceRemoved(m.deps, m.ports, m.a, t, now);
  return m.set(
    succeeded
      ? { status: 'Deprovisioned', operationId: null }
      : { status: 'Failed', failureReason: op.status.failureReason ?? 'FAILED', operationId: null },
    m.move({ state, owner: holder }, { state: succeeded ? 'absent' : 'present', owner: null }),
  );
}

/** Wanted: there already (Elevate's, or there before Elevate, never removed by it), or to be created by this grant. */
async function provide(m: TargetMove, state: string): Promise<Outcome> {
  if (state === 'present') return m.set({ status: 'Provisioned', operationId: null });
  const there = await aws(() => existsInAws(m.ports, m.t));
  if ('error' in there) return m.set({ status: 'Failed', failureReason: there.error });
  if (there.ok) {
    return m.set(
      { status: 'Provisioned' },
      m.move({ state: 'absent', owner: null }, { state: 'present', owner: null, preexisting: true }),
    );
  }
  return m.set(
    { operationId: null, operationStartedAt: m.now.toISOString() },
    m.move({ state: 'absent', owner: null }, { state: 'creating', owner: m.holder }),
  );
}

/** Ended: gone already, still needed by another grant (or there before Elevate), or this grant removes it. */
async function release(m: TargetMove, state: string): Promise<Outcome> {
  if (state === 'absent') return m.set({ status: 'Deprovisioned', operationId: null });
  if ((m.ref?.holders?.size ?? 0) > 0 || m.ref?.preexisting) return m.set({ status: 'Retained', operationId: null });
  return m.set(
    { operationId: null, operationStartedAt: m.now.toISOString() },
    m.move({ state: 'present', owner: null, unheld: true }, { state: 'deleting', owner: m.holder }),
  );
}

/**
 * A grant that could not be provisioned: its assignment ends Revoked (what was provisioned is taken away by the
 * steps that follow), its request is Failed with the AWS reason, audited, and `provisioningFailed` raised.
 */
async function rollback(deps: Deps, a: Assignment, now: Date): Promise<void> {
  const p = a.provisioning as Provisioning;
  const reason = p.targets.find((t) => t.status === 'Failed')?.failureReason ?? 'provisioning failed';
  const end = await endWrites(deps, a, now, 'Revoked', SYSTEM_ACTOR, 'assignment.revoked');
  const r = p.requestId ? await readRequest(deps.store, p.requestId).catch(() => undefined) : undefined;
  const writes = [...end.writes];
  const target = {
    principalId: a.principalId,
    roleId: a.roleId,
    scope: a.scope,
    assignmentId: a.id,
    requestId: p.requestId,
  };
  if (r?.status === 'Provisioning') {
    const failed: RequestRecord = {
      ...r,
      status: 'Failed',
      failureReason: reason,
      version: r.version + 1,
      taskToken: null,
    };
    writes.push(
      ops.updateRequest(failed, r.version),
      ops.audit(auditEvent(now, SYSTEM_ACTOR, 'request.failed', target, { reason })),
      ops.publish({ type: 'elevate.request.failed', detail: { requestId: r.id, reason } }, now),
    );
  }
  writes.push(
    ops.audit(
      auditEvent(now, SYSTEM_ACTOR, 'assignment.provisioningFailed', target, {
        phase: 'provision',
        failureReason: reason,
        provisioning: presentProvisioning(p),
      }),
    ),
    ops.publish(
      {
        type: 'elevate.assignment.provisioningFailed',
        detail: { assignmentId: a.id, requestId: p.requestId, phase: 'provision', failureReason: reason },
      },
      now,
    ),
  );
  await deps.store.transact(writes);
  // This execution takes the rest away itself: no second one for it.
  await runEffects(
    deps,
    end.effects.filter((e) => !(e.kind === 'startWorkflow' && e.name === deprovisionName(a.id))),
  );
  await raiseFailed(deps, a, reason);
}

/**
 * A member of a group-held grant whose provisioning failed: that member alone is rolled back (their targets
 * released and taken away, audited, `provisioningFailed` naming them); the grant stands for the other members.
 */
async function rollbackMember(deps: Deps, a: Assignment, holder: string, now: Date): Promise<void> {
  const failed = (a.provisioning as Provisioning).targets.find((t) => t.holderId === holder && t.status === 'Failed');
  const reason = failed?.failureReason ?? 'provisioning failed';
  const member = failed?.principalId;
  const { updated, writes } = memberRollbackWrites(a, holder, now);
  const target = {
    principalId: a.principalId,
    roleId: a.roleId,
    scope: a.scope,
    assignmentId: a.id,
    requestId: a.provisioning?.requestId ?? null,
  };
  await deps.store.transact([
    ...writes.map((w) => ({
      ...w,
      onConflict: () => new RefMoved(`assignment '${a.id}' changed while a member was rolled back`),
    })),
    ops.audit(
      auditEvent(now, SYSTEM_ACTOR, 'assignment.provisioningFailed', target, {
        phase: 'provision',
        member,
        failureReason: reason,
        provisioning: presentProvisioning(updated.provisioning),
      }),
    ),
    ops.publish(
      {
        type: 'elevate.assignment.provisioningFailed',
        detail: { assignmentId: a.id, phase: 'provision', member, failureReason: reason },
      },
      now,
    ),
  ]);
  await raiseFailed(deps, a, reason, member);
}

/** An ended grant whose request was still Provisioning (removed before it was ready): the request is Revoked. */
async function closeRequest(deps: Deps, a: Assignment, now: Date): Promise<void> {
  const p = a.provisioning as Provisioning;
  const r = p.requestId ? await readRequest(deps.store, p.requestId).catch(() => undefined) : undefined;
  if (r?.status !== 'Provisioning') return;
  await deps.store.transact([
    ops.updateRequest({ ...r, status: 'Revoked', version: r.version + 1, taskToken: null }, r.version),
    ops.audit(
      auditEvent(now, SYSTEM_ACTOR, 'request.revoked', targetOf(r), {
        reason: 'the access ended before it was provisioned',
      }),
    ),
  ]);
}

/** Moves made in one invocation at most (each is one AWS call and one transaction). */
const MOVES_PER_STEP = 12;

/**
 * How the step looks again at an operation in flight before it leaves the wait to the workflow: Identity Center
 * usually ends a creation or deletion within a few seconds, and a Wait state waits whole seconds and costs state
 * transitions and an invocation each time, so the step first looks again itself after short naps (0.25 s rising to
 * 1 s, at most IN_STEP_WAIT_MS in all: well inside the handler's 30 s, with the removal's session fence after it).
 */
export const IN_STEP_NAPS_MS: readonly number[] = [250, 250, 250, 500, 500, 750, 1000, 1000, 1000, 1000, 1000];
export const IN_STEP_WAIT_MS = 8_000;

export interface StepOptions {
  /** Waits (tests give one that moves a manual clock). @default the clock's (`deps.clock.sleep`: real time in Lambda) */
  nap?: (ms: number) => Promise<void>;
}

/**
 * One nap before looking again within the step, if the step's budget (on the clock) allows: false when the wait is
 * to be left to the workflow. A clock that did not move while napping (the manual clock of tests and of the local
 * runtime) does not move on its own: the workflow's Wait state waits on it instead.
 */
async function napInStep(deps: Deps, nap: (ms: number) => Promise<void>, began: number, n: number): Promise<boolean> {
  const ms = IN_STEP_NAPS_MS[n];
  const before = deps.clock.now().getTime();
  if (ms === undefined || before - began + ms > IN_STEP_WAIT_MS) return false;
  await nap(ms);
  return deps.clock.now().getTime() > before;
}

/**
 * Workflow steps `provision` and `deprovision`: every target of the assignment as far as it goes now. Returns when
 * all are settled (done), or with the seconds to wait before the next look.
 */
export async function provisionStep(
  deps: Deps,
  assignmentId: string,
  opts: StepOptions = {},
): Promise<ProvisionResult> {
  const none = { assignmentId, done: true, waitSeconds: 0, granted: false, waitUntil: null };
  const nap = opts.nap ?? ((ms: number) => deps.clock.sleep(ms));
  const began = deps.clock.now().getTime();
  let naps = 0;
  // The assignment as the last move left it (read again only after a move of someone else's).
  let known: Assignment | undefined;
  for (let moves = 0; moves < MOVES_PER_STEP; moves++) {
    const now = deps.clock.now();
    const a = known ?? (await readAssignment(deps, assignmentId));
    known = undefined;
    if (!a?.provisioning?.targets.length)
      return { ...none, granted: !!a && isLive(a), waitUntil: a ? waitUntil(a.endDateTime, now) : null };
    const ports = deps.provisioning;
    if (!ports) throw new Error('IAM Identity Center is not configured: the grant cannot be provisioned');
    const step = await attemptMove(deps, ports, a, now);
    if (step.kind === 'reread') continue;
    if (step.kind === 'moved') {
      known = step.a;
      continue;
    }
    if (step.kind === 'wait') {
      // A look again after a nap is not a move: it does not count against MOVES_PER_STEP.
      if (await napInStep(deps, nap, began, naps++)) {
        moves--;
        continue;
      }
      return { assignmentId, done: false, waitSeconds: step.seconds, granted: false, waitUntil: null };
    }
    const live = isLive(a);
    return {
      assignmentId,
      done: true,
      waitSeconds: 0,
      granted: live,
      waitUntil: live ? waitUntil(a.endDateTime, now) : null,
    };
  }
  return { assignmentId, done: false, waitSeconds: 1, granted: false, waitUntil: null };
}

/** moveGrant, and an ended grant's request closed once settled; a race lost to another step is a `reread`. */
async function attemptMove(deps: Deps, ports: ProvisioningPorts, a: Assignment, now: Date): Promise<GrantMove> {
  try {
    const step = await moveGrant(deps, ports, a, now);
    if (step.kind === 'settled' && !isLive(a)) await closeRequest(deps, a, now);
    return step;
  } catch (error) {
    if (lostRace(error)) return { kind: 'reread' };
    throw error;
  }
}

/** Another step (the other execution on this grant, another grant on the same AWS assignment) moved first. */
const lostRace = (error: unknown): boolean =>
  error instanceof RefMoved || (error instanceof DomainError && ['AlreadyDecided', 'Conflict'].includes(error.code));

/** A move of the grant, or `reread` after a rollback (the assignment is to be read again). */
type GrantMove = Outcome | { kind: 'reread' };

/**
 * One move of a grant: a live grant's failed member, or the live grant itself when it failed, rolled back; else the
 * first of its targets that moves; else the shortest wait of those that wait; else settled.
 */
async function moveGrant(deps: Deps, ports: ProvisioningPorts, a: Assignment, now: Date): Promise<GrantMove> {
  const p = a.provisioning as Provisioning;
  const live = isLive(a);
  const failed = live ? failedMember(p) : undefined;
  if (failed) {
    await rollbackMember(deps, a, failed, now);
    return { kind: 'reread' };
  }
  if (live && p.status === 'Failed') {
    await rollback(deps, a, now);
    return { kind: 'reread' };
  }
  let wait: number | null = null;
  for (let i = 0; i < p.targets.length; i++) {
    const outcome = await advanceTarget(deps, ports, a, i, now);
    if (outcome.kind === 'moved') return outcome;
    if (outcome.kind === 'wait') wait = Math.min(wait ?? outcome.seconds, outcome.seconds);
  }
  return wait === null ? SETTLED : { kind: 'wait', seconds: wait };
}
