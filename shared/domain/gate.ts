import type { Assignment, AssignmentStatus } from './assignment.ts';
import { DomainError } from './errors.ts';
import type { Settings } from './settings.ts';

/**
 * The rules every call's gate asks (the HTTP wrapper, the caller's authority): plain rules on names, statuses and
 * flags, with no schema behind them. They live apart from the domain's schemas (assignment.ts, governance.ts,
 * request.ts, role.ts, which re-export what they own of them) so that a function's cold start does not build the
 * schemas of shapes it never parses (bench/README.md, "Where a function's init goes").
 */

/** The built-in roles that carry Elevate's own authority. */
export const ADMIN_ROLE = 'elevate-admin';
export const AUDITOR_ROLE = 'elevate-auditor';

/**
 * Actions an admin takes on someone's assignment (`admin*`), and actions a principal takes on its own (`self*`).
 * Also asked of an action named in a body not parsed yet (the governance gate, a refusal's audit): by its prefix.
 */
export const isAdminAction = (a: string): boolean => a.startsWith('admin');

/** The operations that can become a pending change (the wrapper looks only at these). */
export const GOVERNED_OPERATIONS = [
  'putSettings',
  'putPolicy',
  'deletePolicy',
  'putTargets',
  'updateRole',
  'createRequest',
] as const;
export type GovernedOperation = (typeof GOVERNED_OPERATIONS)[number];

export const isGovernedOperation = (operationId: string): operationId is GovernedOperation =>
  (GOVERNED_OPERATIONS as readonly string[]).includes(operationId);

/** Live assignments (Scheduled or Active) are the ones that can still grant access. */
export const isLive = (a: Pick<Assignment, 'status'>): boolean => a.status === 'Scheduled' || a.status === 'Active';

/**
 * The status as of `now`. The stored status can lag (the workflow or the reconcile job records the
 * change), but what a reader sees never does: an assignment past its end is Expired at that instant.
 */
export function effectiveStatus(
  a: Pick<Assignment, 'status' | 'startDateTime' | 'endDateTime'>,
  now: Date,
): AssignmentStatus {
  if (!isLive(a)) return a.status;
  const t = now.getTime();
  if (a.endDateTime !== null && Date.parse(a.endDateTime) <= t) return 'Expired';
  return Date.parse(a.startDateTime) <= t ? 'Active' : 'Scheduled';
}

/** Does the assignment grant its role right now? */
export const inForce = (a: Pick<Assignment, 'status' | 'startDateTime' | 'endDateTime'>, now: Date): boolean =>
  effectiveStatus(a, now) === 'Active';

/**
 * Elevate-admin authority needs MFA when the deployment asks for it (`adminMfa`, fixed at deploy time) and the
 * settings keep it on.
 */
export const adminMfaRequired = (deploymentAdminMfa: boolean, settings: Settings): boolean =>
  deploymentAdminMfa && settings.governance.adminMfa;

/** Throws MfaRequired when the rule asks for MFA and the caller's token has none. */
export function checkAdminMfa(required: boolean, callerMfa: boolean, what: string): void {
  if (required && !callerMfa) {
    throw new DomainError(
      'MfaRequired',
      `${what} is made with elevate-admin authority, which needs multi-factor authentication; sign in again with MFA`,
    );
  }
}
