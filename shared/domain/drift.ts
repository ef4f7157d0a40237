import { type Assignment, inForce, isLive } from './assignment.ts';
import type { ProvisionedTarget, RefState } from './provisioning.ts';
import { accountOfScope } from './scope.ts';
import type { Target } from './targets.ts';

/**
 * Drift (provisioning.md, "Drift"): an account assignment of a managed permission set (one named in any role's
 * targets) or a membership of a managed group that no live Elevate grant backs. A grant backs what it provisioned:
 * the targets recorded on its assignment when it was granted (a later change of the role's targets applies to later
 * grants only, so it neither makes a live grant look like drift nor hides drift).
 *
 * A grant that ended less than DRIFT_GRACE_MS ago still backs its access: its removal from AWS is in flight (the
 * workflow deletes and polls), and drift must neither alert on it nor race that deletion.
 */
export const DRIFT_GRACE_MS = 15 * 60_000;

/** One unit of the drift job's work: the assignments of a permission set in one account, or a group's members. */
export type DriftUnit =
  | { kind: 'accountAssignments'; permissionSetArn: string; accountId: string }
  | { kind: 'groupMemberships'; groupId: string };

export const unitKey = (u: DriftUnit): string =>
  u.kind === 'accountAssignments' ? `ps|${u.permissionSetArn}|${u.accountId}` : `group|${u.groupId}`;

/** What a grant backs, in the terms AWS lists: `ps|<arn>|<account>|<user id>` or `group|<group id>|<user id>`. */
export const assignmentKey = (permissionSetArn: string, accountId: string, userId: string): string =>
  `ps|${permissionSetArn}|${accountId}|${userId}`;
export const membershipKey = (groupId: string, userId: string): string => `group|${groupId}|${userId}`;

/** Does this assignment back access now: an active one in force, or one that ended within the grace? */
export function backsNow(
  a: Pick<Assignment, 'assignmentType' | 'status' | 'startDateTime' | 'endDateTime' | 'updatedAt'>,
  now: Date,
): boolean {
  if (a.assignmentType !== 'active') return false;
  if (inForce(a, now)) return true;
  if (isLive(a) && Date.parse(a.startDateTime) > now.getTime()) return false; // scheduled, not started
  const ended = isLive(a) ? a.endDateTime : a.updatedAt;
  return ended !== null && now.getTime() - Date.parse(ended) < DRIFT_GRACE_MS;
}

/** The keys a grant of a role with these targets backs for one Identity Center user. */
export function backedKeys(targets: readonly Target[], scope: string, userId: string): string[] {
  const account = accountOfScope(scope);
  return targets.flatMap((t) => {
    if (t.type === 'identityCenterGroupMembership') return [membershipKey(t.groupId, userId)];
    return account ? [assignmentKey(t.permissionSetArn, account, userId)] : [];
  });
}

/** The drift key of what a recorded target provisioned (the terms AWS lists it in). */
export function recordedKey(
  t: Pick<ProvisionedTarget, 'type' | 'permissionSetArn' | 'groupId' | 'accountId' | 'identityCenterUserId'>,
): string | null {
  if (t.type === 'identityCenterGroupMembership')
    return t.groupId ? membershipKey(t.groupId, t.identityCenterUserId) : null;
  return t.permissionSetArn && t.accountId
    ? assignmentKey(t.permissionSetArn, t.accountId, t.identityCenterUserId)
    : null;
}

/**
 * What a grant that ended within the grace still backs: its recorded targets but those whose removal AWS confirmed
 * (Deprovisioned: if that is in AWS again, it came from outside).
 */
export function recordedKeys(targets: readonly ProvisionedTarget[]): string[] {
  return targets
    .filter((t) => t.status !== 'Deprovisioned')
    .map(recordedKey)
    .filter((k): k is string => k !== null);
}

/**
 * Does the reference item of an AWS assignment or membership (provisioning-steps.ts) show it backed: a live grant
 * holds it (every grant holds what its recorded targets need, in its own transaction), or Elevate's own creation or
 * deletion of it is in flight? One that was there before Elevate and that nobody holds is not backed.
 */
export function refBacks(ref: { holders?: ReadonlySet<string>; state?: RefState } | undefined): boolean {
  if (!ref) return false;
  return (ref.holders?.size ?? 0) > 0 || ref.state === 'creating' || ref.state === 'deleting';
}
