import * as z from 'zod';
import type { Target } from './targets.ts';

/**
 * Where a grant stands in AWS IAM Identity Center (provisioning.md, "States"): the assignment's `provisioning`,
 * one entry per target, and the pure rules that move it. No I/O here: shared/usecases/provisioning-steps.ts
 * asks AWS and writes what these rules decide.
 */
export const ProvisioningStatus = z.enum([
  'NotRequired',
  'InProgress',
  'Provisioned',
  'Failed',
  'Deprovisioning',
  'Deprovisioned',
]);
export type ProvisioningStatus = z.infer<typeof ProvisioningStatus>;

export const TargetStatus = z.enum([
  'InProgress',
  'Provisioned',
  'Failed',
  'Deprovisioning',
  'Deprovisioned',
  'Retained',
]);
export type TargetStatus = z.infer<typeof TargetStatus>;

/** A target as the API shows it. */
export const ProvisionedTargetView = z
  .object({
    type: z.enum(['identityCenterAccountAssignment', 'identityCenterGroupMembership']),
    permissionSetArn: z.string().optional(),
    groupId: z.string().optional(),
    accountId: z.string().nullable(),
    identityCenterUserId: z.string(),
    /** A group-held grant's target: the member it is provisioned for (provisioning.md, "What is provisioned"). */
    principalId: z.string().optional(),
    status: TargetStatus,
    failureReason: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ProvisionedTarget' });

export const ProvisioningView = z
  .object({ status: ProvisioningStatus, targets: z.array(ProvisionedTargetView) })
  .meta({ id: 'Provisioning', description: 'Where the grant stands in AWS IAM Identity Center' });
export type ProvisioningView = z.infer<typeof ProvisioningView>;

/** A target as stored: what the API shows, plus the AWS operation in flight (never shown). */
export interface ProvisionedTarget extends z.infer<typeof ProvisionedTargetView> {
  /** The reference this target holds (refIdOf): one per AWS account assignment or membership. */
  refId: string;
  /** The request id of the creation or deletion this grant started and still polls (null: none). */
  operationId: string | null;
  /** When that operation (or the wait for another grant's) started: the poll backoff counts from it. */
  operationStartedAt: string | null;
  /**
   * A group-held grant's target: who holds its reference (memberHolder: the grant and the membership it is
   * provisioned for). Absent: the grant itself (its assignment id).
   */
  holderId?: string;
  /** A group-held grant's target whose member left (or whose provisioning failed): taken away while the grant lives. */
  released?: boolean;
}

export interface Provisioning {
  status: ProvisioningStatus;
  targets: ProvisionedTarget[];
  /** The request that granted it (Provisioning until every target is there). */
  requestId: string | null;
  /**
   * A grant held by a group: the targets (and account) it was granted with, provisioned for each member who joins
   * while it lives (a live grant keeps the targets it was granted with).
   */
  members?: { targets: Target[]; accountId: string | null };
}

/**
 * The identity of what Elevate creates in AWS: an account assignment (user × permission set × account) or a
 * membership (user × group). Every grant that needs one holds a reference to it.
 */
export function refIdOf(
  t: Pick<ProvisionedTarget, 'type' | 'permissionSetArn' | 'groupId' | 'accountId' | 'identityCenterUserId'>,
): string {
  return t.type === 'identityCenterAccountAssignment'
    ? `acct|${t.accountId}|${t.permissionSetArn}|${t.identityCenterUserId}`
    : `grp|${t.groupId}|${t.identityCenterUserId}`;
}

/** Who holds a target's reference: the membership's holder for a group-held grant, else the grant itself. */
export const holderOf = (assignmentId: string, t: Pick<ProvisionedTarget, 'holderId'>): string =>
  t.holderId ?? assignmentId;

/** The holder of a group-held grant's targets for one membership (unique per grant × membership). */
export const memberHolder = (groupAssignmentId: string, membershipId: string): string =>
  `${groupAssignmentId}:${membershipId}`;

/** Is the target to be there (live grant, member still in) or to be taken away? */
export const targetWanted = (t: Pick<ProvisionedTarget, 'released'>, live: boolean): boolean => live && !t.released;

/**
 * How many references one transaction may hold or let go of for a group-held grant: DynamoDB takes at most 100
 * items in a transaction, and the grant's (or membership's) own writes need up to about 15 of them.
 */
export const MAX_MEMBER_HOLDS = 80;

/** An active member of a group, as a group-held grant provisions for them. */
export interface Member {
  principalId: string;
  membershipId: string;
  identityCenterUserId: string;
}

/** The targets of a group-held grant for one member, all InProgress, held by that membership's holder. */
export function memberTargets(
  template: NonNullable<Provisioning['members']>,
  groupAssignmentId: string,
  m: Member,
  now: Date,
): ProvisionedTarget[] {
  const holderId = memberHolder(groupAssignmentId, m.membershipId);
  return plannedTargets(template.targets, template.accountId, m.identityCenterUserId, now).map((t) => ({
    ...t,
    principalId: m.principalId,
    holderId,
  }));
}

/** The references a set of targets holds, one write per reference item (a transaction may touch an item once). */
export function holdsByRef(
  assignmentId: string,
  targets: readonly Pick<ProvisionedTarget, 'refId' | 'holderId'>[],
): Map<string, string[]> {
  const byRef = new Map<string, string[]>();
  for (const t of targets) {
    const holders = byRef.get(t.refId) ?? [];
    const h = holderOf(assignmentId, t);
    if (!holders.includes(h)) holders.push(h);
    byRef.set(t.refId, holders);
  }
  return byRef;
}

/** Released targets that are done (gone or kept): dropped when the grant's targets change, so churn never grows it. */
const spent = (t: ProvisionedTarget) =>
  t.released === true && (t.status === 'Deprovisioned' || t.status === 'Retained');

/** A live group-held grant's status: with no member (no target), there is nothing to wait for. */
const liveGroupStatus = (targets: readonly ProvisionedTarget[]): ProvisioningStatus =>
  targets.length === 0 ? 'Provisioned' : overallStatus(targets, true);

/**
 * A member joins a live group-held grant: their targets are added (InProgress) to what it records (none when the
 * membership already has its own there).
 */
export function joinedProvisioning(
  p: Provisioning,
  groupAssignmentId: string,
  m: Member,
  now: Date,
): { provisioning: Provisioning; added: ProvisionedTarget[] } {
  const template = p.members;
  if (!template) return { provisioning: p, added: [] };
  const holderId = memberHolder(groupAssignmentId, m.membershipId);
  if (p.targets.some((t) => t.holderId === holderId && !t.released)) return { provisioning: p, added: [] };
  const added = memberTargets(template, groupAssignmentId, m, now);
  const targets = [...p.targets.filter((t) => !spent(t)), ...added];
  return { provisioning: { ...p, status: liveGroupStatus(targets), targets }, added };
}

/**
 * A member's targets of a live group-held grant are let go of (the membership ended, or their provisioning failed):
 * released, and to be taken away (Deprovisioning) where they were there or on their way.
 */
export function releasedProvisioning(
  p: Provisioning,
  holderId: string,
  now: Date,
): { provisioning: Provisioning; released: ProvisionedTarget[] } {
  const released: ProvisionedTarget[] = [];
  const targets = p.targets
    .filter((t) => !spent(t))
    .map((t) => {
      if (t.holderId !== holderId || t.released) return t;
      released.push(t);
      const status = t.status === 'Provisioned' || t.status === 'InProgress' ? ('Deprovisioning' as const) : t.status;
      return { ...t, released: true, status, updatedAt: now.toISOString() };
    });
  return { provisioning: { ...p, status: liveGroupStatus(targets), targets }, released };
}

/** The holder of a member's target that failed while the group-held grant lives (its member is rolled back alone). */
export function failedMember(p: Provisioning): string | undefined {
  return p.targets.find((t) => t.holderId !== undefined && !t.released && t.status === 'Failed')?.holderId;
}

/** The targets of a grant about to be made, all InProgress (nothing asked of AWS yet). */
export function plannedTargets(
  targets: readonly Target[],
  accountId: string | null,
  identityCenterUserId: string,
  now: Date,
): ProvisionedTarget[] {
  return targets.map((t) => {
    const base =
      t.type === 'identityCenterAccountAssignment'
        ? { type: t.type, permissionSetArn: t.permissionSetArn, accountId }
        : { type: t.type, groupId: t.groupId, accountId: null };
    const target = {
      ...base,
      identityCenterUserId,
      status: 'InProgress' as const,
      failureReason: null,
      updatedAt: now.toISOString(),
      operationId: null,
      operationStartedAt: null,
    };
    return { ...target, refId: refIdOf(target) };
  });
}

/** What the AWS side of a reference is, as Elevate knows it (the reference item, records.ts `awsRef`). */
export type RefState = 'absent' | 'creating' | 'present' | 'deleting';

/** A target no further work can change: done in its direction (live: there; ended: gone or kept). */
export function targetSettled(status: TargetStatus, wanted: boolean): boolean {
  if (status === 'Failed' || status === 'Retained') return true;
  return wanted ? status === 'Provisioned' : status === 'Deprovisioned';
}

/**
 * The assignment's status from its targets: while it is live, Provisioned once every target still wanted is there
 * (Failed when one failed; the released targets of a group-held grant's former members do not count); once it
 * ended, Deprovisioned when every target is Deprovisioned or Retained, Failed when one not released earlier failed
 * and the others are done.
 */
export function overallStatus(
  targets: readonly Pick<ProvisionedTarget, 'status' | 'released'>[],
  live: boolean,
): ProvisioningStatus {
  if (targets.length === 0) return 'NotRequired';
  if (live) {
    const statuses = targets.filter((t) => !t.released).map((t) => t.status);
    if (statuses.includes('Failed')) return 'Failed';
    return statuses.every((s) => s === 'Provisioned' || s === 'Retained') ? 'Provisioned' : 'InProgress';
  }
  if (targets.some((t) => t.status === 'InProgress' || t.status === 'Deprovisioning' || t.status === 'Provisioned'))
    return 'Deprovisioning';
  return targets.some((t) => !t.released && t.status === 'Failed') ? 'Failed' : 'Deprovisioned';
}

/**
 * Seconds until the next look at an operation in flight, from how long it has run: every second for the first
 * 15 s (Identity Center usually answers within a few: the added delay stays under a second), then doubling up to
 * 30 s. Step Functions waits in whole seconds.
 */
export function pollDelaySeconds(runningMs: number): number {
  const s = Math.max(0, runningMs) / 1000;
  if (s < 15) return 1;
  return Math.min(30, 2 ** Math.ceil(Math.log2(s / 15)) * 2);
}

/** How long a creation or deletion may stay IN_PROGRESS before the grant gives up on it (its retries exhausted). */
export const OPERATION_DEADLINE_MS = 15 * 60_000;

/** The ended copy's provisioning: what was there is to be taken away (Deprovisioning), the rest stays as it is. */
export function endingProvisioning(p: Provisioning | undefined, now: Date): Provisioning | undefined {
  if (!p) return p;
  if (p.targets.length === 0) return p.members ? { ...p, status: 'Deprovisioned' } : p;
  const targets = p.targets.map((t) =>
    t.status === 'Provisioned' || t.status === 'InProgress'
      ? { ...t, status: 'Deprovisioning' as const, updatedAt: now.toISOString() }
      : t,
  );
  return { ...p, status: overallStatus(targets, false), targets };
}

/** What the API shows of a stored provisioning (the operation in flight is Elevate's business). */
export function presentProvisioning(p: Provisioning | undefined): ProvisioningView {
  if (!p) return { status: 'NotRequired', targets: [] };
  return {
    status: p.status,
    targets: p.targets.map(
      ({ refId: _r, operationId: _o, operationStartedAt: _s, holderId: _h, released: _x, ...t }) => t,
    ),
  };
}
