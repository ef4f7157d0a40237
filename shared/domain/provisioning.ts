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
}

export interface Provisioning {
  status: ProvisioningStatus;
  targets: ProvisionedTarget[];
  /** The request that granted it (Provisioning until every target is there). */
  requestId: string | null;
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
export function targetSettled(status: TargetStatus, live: boolean): boolean {
  if (status === 'Failed' || status === 'Retained') return true;
  return live ? status === 'Provisioned' : status === 'Deprovisioned';
}

/**
 * The assignment's status from its targets: while it is live, Provisioned once every target is there (Failed
 * when one failed); once it ended, Deprovisioned when every target is Deprovisioned or Retained, Failed when one
 * failed and the others are done.
 */
export function overallStatus(
  targets: readonly Pick<ProvisionedTarget, 'status'>[],
  live: boolean,
): ProvisioningStatus {
  if (targets.length === 0) return 'NotRequired';
  const statuses = targets.map((t) => t.status);
  if (live) {
    if (statuses.includes('Failed')) return 'Failed';
    return statuses.every((s) => s === 'Provisioned' || s === 'Retained') ? 'Provisioned' : 'InProgress';
  }
  if (statuses.some((s) => s === 'InProgress' || s === 'Deprovisioning' || s === 'Provisioned'))
    return 'Deprovisioning';
  return statuses.includes('Failed') ? 'Failed' : 'Deprovisioned';
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
  if (!p || p.targets.length === 0) return p;
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
    targets: p.targets.map(({ refId: _r, operationId: _o, operationStartedAt: _s, ...t }) => t),
  };
}
