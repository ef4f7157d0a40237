import type { AssignmentType } from './assignment.ts';
import { exceeds } from './duration.ts';
import { DomainError, invalid } from './errors.ts';
import type { RolePolicy } from './policy.ts';
import type { PrincipalType } from './primitives.ts';
import { type Expiration, type ResolvedSchedule, resolveExpiration } from './schedule.ts';

/** The policy rules for an assignment made by an administrator (adminAssign, adminUpdate). */
export interface AdminAssignmentCheck {
  policy: RolePolicy;
  assignmentType: AssignmentType;
  principalType: PrincipalType;
  schedule: ResolvedSchedule;
  justification: string | undefined;
  /** Did the acting administrator sign in with MFA (token `amr` contains `mfa`)? */
  actorMfa: boolean;
}

function rulesFor(policy: RolePolicy, type: AssignmentType, principalType: PrincipalType) {
  const rules = type === 'eligible' ? policy.eligibleAssignment : policy.activeAssignment;
  // Service principals' active assignments must expire whatever the policy says (api.md).
  const allowPermanent = rules.allowPermanent && principalType !== 'servicePrincipal';
  return { allowPermanent, maxDuration: rules.maxDuration };
}

/** With no expiration given, an assignment is permanent where allowed, else as long as the policy allows. */
export function defaultAssignmentExpiration(
  policy: RolePolicy,
  type: AssignmentType,
  principalType: PrincipalType,
): Expiration {
  const { allowPermanent, maxDuration } = rulesFor(policy, type, principalType);
  return allowPermanent ? { type: 'noExpiration' } : { type: 'afterDuration', duration: maxDuration };
}

/** Throws the policy refusal of api.md, in a fixed order, or returns when the assignment is allowed. */
export function checkAdminAssignment(c: AdminAssignmentCheck): void {
  if (c.assignmentType === 'eligible' && c.principalType === 'servicePrincipal') {
    throw new DomainError(
      'InvalidPrincipalType',
      'a service principal cannot be eligible for a role; give it a time-bound active assignment',
    );
  }
  const { allowPermanent, maxDuration } = rulesFor(c.policy, c.assignmentType, c.principalType);
  if (c.schedule.end === null) {
    if (!allowPermanent) {
      const why =
        c.principalType === 'servicePrincipal'
          ? "a service principal's active assignment must expire"
          : `the role's policy does not allow permanent ${c.assignmentType} assignments`;
      throw new DomainError('PermanentNotAllowed', `${why}; give an expiration of at most ${maxDuration}`);
    }
  } else if (exceeds(c.schedule.start, c.schedule.end, maxDuration)) {
    throw new DomainError(
      'DurationExceedsPolicy',
      `the role's policy allows ${c.assignmentType} assignments of at most ${maxDuration}`,
    );
  }
  if (c.assignmentType === 'active') {
    if (c.policy.activeAssignment.requireMfa && !c.actorMfa) {
      throw new DomainError(
        'MfaRequired',
        "the role's policy requires multi-factor authentication for active assignments; sign in again with MFA",
      );
    }
    if (c.policy.activeAssignment.requireJustification && !c.justification) {
      throw new DomainError(
        'JustificationRequired',
        "the role's policy requires a justification for active assignments",
      );
    }
  }
}

/** A self action acts on the caller, and a caller (a token) is always a user: never a group or a service principal. */
export function checkSelfPrincipalType(action: string, principalType: PrincipalType | undefined): void {
  if (principalType === undefined || principalType === 'user') return;
  throw new DomainError(
    'InvalidPrincipalType',
    `'${action}' acts on the caller, a user, never a ${principalType}; an administrator assigns roles to groups and service principals`,
  );
}

/** An administrator's update of a live assignment (adminUpdate, adminExtend), beyond the policy's rules. */
export function checkAdminUpdate(
  action: 'adminUpdate' | 'adminExtend',
  currentEnd: string | null,
  schedule: ResolvedSchedule,
  now: Date,
): void {
  if (schedule.end && schedule.end <= now) {
    throw invalid('an updated assignment must end in the future; use adminRemove to end it now', [
      { path: 'schedule.expiration', message: 'ends in the past' },
    ]);
  }
  if (
    action === 'adminExtend' &&
    (currentEnd === null || (schedule.end !== null && schedule.end.toISOString() <= currentEnd))
  ) {
    throw invalid('adminExtend moves the end of a time-bound assignment later', [
      { path: 'schedule.expiration', message: 'must end after the current end' },
    ]);
  }
}

/** What decides a renewal a principal asks for itself (selfRenew, or selfExtend of an assignment). */
export interface RenewalCheck {
  policy: RolePolicy;
  assignmentType: AssignmentType;
  principalType: PrincipalType;
  now: Date;
  /** The expiration asked for; none: as long as the policy allows this type of assignment. */
  expiration: Expiration | undefined;
  justification: string | undefined;
  /** The end of the assignment held now (null: permanent, or none is held). */
  currentEnd: string | null;
}

/**
 * The new end of an assignment renewed (or extended) at its holder's request, which an administrator then
 * approves, or its refusal in a fixed order: it has an end; it keeps to the policy as an administrator's assignment
 * would (without the MFA rule: the approver's call carries it); it says why; it ends after the current end.
 */
export function checkRenewal(c: RenewalCheck): Date {
  const rules = c.assignmentType === 'eligible' ? c.policy.eligibleAssignment : c.policy.activeAssignment;
  const fallback: Expiration = { type: 'afterDuration', duration: rules.maxDuration };
  const { end } = resolveExpiration(c.now, c.expiration ?? fallback);
  if (!end) throw new DomainError('PermanentNotAllowed', 'a renewal or extension you ask for yourself has an end');
  checkAdminAssignment({
    policy: c.policy,
    assignmentType: c.assignmentType,
    principalType: c.principalType,
    schedule: { start: c.now, end },
    justification: c.justification ?? 'self',
    actorMfa: true,
  });
  if (!c.justification) throw new DomainError('JustificationRequired', 'say why you need the assignment for longer');
  if (c.currentEnd && end.toISOString() <= c.currentEnd) {
    throw invalid('an extension ends after the current end', [
      { path: 'schedule.expiration', message: `must be after ${c.currentEnd}` },
    ]);
  }
  return end;
}
