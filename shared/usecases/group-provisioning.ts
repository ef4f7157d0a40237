import type { Deps, ProvisioningPorts } from '../deps.ts';
import type { Assignment } from '../domain/assignment.ts';
import { DomainError } from '../domain/errors.ts';
import { executionHorizon, waitTimestamp } from '../domain/execution.ts';
import {
  holdsByRef,
  joinedProvisioning,
  MAX_MEMBER_HOLDS,
  type Member,
  memberHolder,
  memberTargets,
  type ProvisionedTarget,
  type Provisioning,
  releasedProvisioning,
} from '../domain/provisioning.ts';
import type { Target } from '../domain/targets.ts';
import type { WorkflowInput } from '../ports/workflow.ts';
import { ops, StandingMoved, type WriteOp } from '../store/records.ts';
import type { Effect } from './effects.ts';
import { groupMembersReady, groupOfMembership, liveGroupGrants, userOrRefuse } from './provisioning.ts';

/**
 * Group-held grants provisioned per member (provisioning.md, "What is provisioned"): an active grant held by an
 * Elevate group records one set of targets per active member, each held by that membership (memberHolder), and
 * follows the membership: a member who joins while the grant lives gets theirs (held in the membership's
 * transaction), a member who leaves lets go of theirs (released in the transaction that ends the membership) and
 * they are taken away, overlap-safe, by the same provisioning steps as any grant's.
 */
interface Step {
  writes: WriteOp[];
  effects: Effect[];
}
const NONE: Step = { writes: [], effects: [] };

function tooMany(n: number, what: string): DomainError {
  return new DomainError(
    'TargetNotReady',
    `${what} would hold ${n} AWS assignments and memberships in one transaction; at most ${MAX_MEMBER_HOLDS} (DynamoDB takes 100 items in a transaction): grant it to fewer members, or to a role with fewer targets`,
  );
}

/** One write per reference item the targets hold (or let go of). */
function refWrites(byRef: Map<string, string[]>, op: typeof ops.holdRef | typeof ops.releaseRef): WriteOp[] {
  return [...byRef].map(([refId, holders]) => op(refId, holders));
}

function mergeInto(into: Map<string, string[]>, from: Map<string, string[]>): void {
  for (const [refId, holders] of from) into.set(refId, [...new Set([...(into.get(refId) ?? []), ...holders])]);
}

/**
 * The provisioning of a grant held by a group about to be made: one set of targets per active member, each set held
 * by its membership, in the grant's transaction. With no member yet: Provisioned (nothing to make) and kept to
 * provision those who join.
 */
export async function planGroupProvisioning(
  deps: Pick<Deps, 'store' | 'config'>,
  ports: ProvisioningPorts,
  a: Assignment,
  targets: readonly Target[],
  accountId: string | null,
  requestId: string,
  now: Date,
): Promise<{ provisioning: Provisioning; writes: WriteOp[] }> {
  const { members, problems } = await groupMembersReady(deps, ports, a.principalId, now);
  if (problems.length) throw new DomainError('TargetNotReady', problems.join('; '));
  const template = { targets: [...targets], accountId };
  const planned: ProvisionedTarget[] = members.flatMap((m) => memberTargets(template, a.id, m, now));
  const byRef = holdsByRef(a.id, planned);
  if (byRef.size > MAX_MEMBER_HOLDS) throw tooMany(byRef.size, `a grant to the group '${a.principalId}'`);
  return {
    provisioning: {
      status: planned.length ? 'InProgress' : 'Provisioned',
      targets: planned,
      requestId,
      members: template,
    },
    writes: refWrites(byRef, ops.holdRef),
  };
}

/**
 * A membership that comes into force (activation, admin-assigned active, a scheduled start, an approval): the live
 * grants its group holds get the member's targets, held in the membership's transaction. Refused (TargetNotReady)
 * when the member has no Identity Center user, since the group's access could not be given to them.
 */
export async function membershipJoins(deps: Deps, m: Assignment, now: Date): Promise<WriteOp[]> {
  const groupId = groupOfMembership(m);
  if (!groupId) return [];
  const grants = await liveGroupGrants(deps.store, groupId, now);
  if (!grants.length) return [];
  const ports = deps.provisioning;
  if (!ports) throw new DomainError('TargetNotReady', 'IAM Identity Center is not configured');
  const { userId, problem } = await userOrRefuse(deps, ports, m.principalId);
  if (!userId) {
    throw new DomainError('TargetNotReady', `the group '${groupId}' holds access provisioned in AWS: ${problem}`);
  }
  const member: Member = { principalId: m.principalId, membershipId: m.id, identityCenterUserId: userId };
  const writes: WriteOp[] = [];
  const byRef = new Map<string, string[]>();
  for (const g of grants) {
    const { provisioning, added } = joinedProvisioning(g.provisioning as Provisioning, g.id, member, now);
    if (!added.length) continue;
    writes.push(...replaceGrant(g, provisioning, now));
    mergeInto(byRef, holdsByRef(g.id, added));
  }
  if (byRef.size > MAX_MEMBER_HOLDS) throw tooMany(byRef.size, `joining the group '${groupId}'`);
  return [...writes, ...refWrites(byRef, ops.holdRef)];
}

/** The executions that provision a member who joined, one per live grant of the group (started after the commit). */
export async function membershipJoinEffects(deps: Deps, m: Assignment, now: Date): Promise<Effect[]> {
  const groupId = groupOfMembership(m);
  if (!groupId) return [];
  const grants = await liveGroupGrants(deps.store, groupId, now);
  return grants.map((g) => settleEffect(g, `${g.id}-join-${m.id}`, now));
}

/**
 * A membership that ends (expiry, deactivation, removal, review, its eligibility ended): the member's targets of the
 * live grants of the group are released in the ending transaction, and an execution of each grant takes them away.
 */
export async function membershipLeaves(deps: Deps, m: Assignment, now: Date): Promise<Step> {
  const groupId = groupOfMembership(m);
  if (!groupId) return NONE;
  const grants = await liveGroupGrants(deps.store, groupId, now);
  const writes: WriteOp[] = [];
  const effects: Effect[] = [];
  const byRef = new Map<string, string[]>();
  for (const g of grants) {
    const holder = memberHolder(g.id, m.id);
    const { provisioning, released } = releasedProvisioning(g.provisioning as Provisioning, holder, now);
    if (!released.length) continue;
    writes.push(...replaceGrant(g, provisioning, now));
    mergeInto(byRef, holdsByRef(g.id, released));
    effects.push(settleEffect(g, `${g.id}-leave-${m.id}`, now));
  }
  return { writes: [...writes, ...refWrites(byRef, ops.releaseRef)], effects };
}

/** A member's targets let go of while the grant lives (their provisioning failed): the writes of the release. */
export function memberRollbackWrites(
  g: Assignment,
  holder: string,
  now: Date,
): { updated: Assignment; writes: WriteOp[]; released: ProvisionedTarget[] } {
  const { provisioning, released } = releasedProvisioning(g.provisioning as Provisioning, holder, now);
  const updated = changed(g, provisioning, now);
  return {
    updated,
    writes: [...ops.replaceAssignment(updated, g.version), ...refWrites(holdsByRef(g.id, released), ops.releaseRef)],
    released,
  };
}

/**
 * A group's grant changed by a membership's transaction, guarded by the version read: when its provisioning step
 * wrote it meanwhile, the membership's change is planned again (StandingMoved: the API and removals re-plan).
 */
const replaceGrant = (g: Assignment, provisioning: Provisioning, now: Date): WriteOp[] =>
  ops.replaceAssignment(changed(g, provisioning, now), g.version).map((w) => ({
    ...w,
    onConflict: () => new StandingMoved(`the grant '${g.id}' of the group changed meanwhile; retry`),
  }));

const changed = (g: Assignment, provisioning: Provisioning, now: Date): Assignment => ({
  ...g,
  provisioning,
  updatedAt: now.toISOString(),
  version: g.version + 1,
});

/**
 * An execution that moves a live group-held grant's targets until they are settled and then ends (phase
 * `deprovision`: `Deprovision` → `Deprovisioned?` → `Ended`; the grant's own execution keeps its end).
 */
function settleEffect(g: Assignment, name: string, now: Date): Effect {
  const input: WorkflowInput = {
    requestId: g.provisioning?.requestId ?? g.requestId ?? g.id,
    startDateTime: waitTimestamp(g.startDateTime),
    horizon: executionHorizon(now),
    stage: 0,
    stageTimeoutSeconds: 0,
    endDateTime: g.endDateTime,
    stages: [],
    phase: 'deprovision',
    expiry: { expired: true, waitUntil: null, deprovisioning: true, waitSeconds: 0, assignmentId: g.id },
  };
  return { kind: 'startWorkflow', name, input };
}
