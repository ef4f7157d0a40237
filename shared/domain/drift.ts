import { type Assignment, inForce, isLive } from './assignment.ts';
import { accountOfScope } from './scope.ts';
import type { Target } from './targets.ts';

/**
 * Drift (provisioning.md, "Drift"): an account assignment of a managed permission set (one named in any role's
 * targets) or a membership of a managed group that no live Elevate grant backs. A grant backs the access of its
 * role's targets for its user (each active member of a group principal) in the account its scope names.
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
