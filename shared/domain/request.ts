import * as z from 'zod';
import { AssignmentType } from './assignment.ts';
import { DomainError, invalid } from './errors.ts';
import { isAdminAction } from './gate.ts';
import { Justification, PrincipalId, PrincipalType, Slug, Text } from './primitives.ts';
import { checkSelfPrincipalType } from './rules.ts';
import { ScheduleInput } from './schedule.ts';
import { Scope } from './scope.ts';

/** Every change to an assignment is a request. */
export const RequestAction = z.enum([
  'adminAssign',
  'adminUpdate',
  'adminRemove',
  'adminExtend',
  'adminRenew',
  'selfActivate',
  'selfDeactivate',
  'selfExtend',
  'selfRenew',
]);
export type RequestAction = z.infer<typeof RequestAction>;

export const RequestStatus = z.enum([
  'PendingApproval',
  /** Approved and due; its targets are being provisioned in AWS (provisioning.md). */
  'Provisioning',
  'Granted',
  'Provisioning',
  'Scheduled',
  'Denied',
  'Canceled',
  'TimedOut',
  'Revoked',
  'Failed',
]);
export type RequestStatus = z.infer<typeof RequestStatus>;

export const DecisionInput = z.strictObject({ justification: Justification.optional() });

export const Ticket = z.strictObject({
  system: Text(64),
  number: Text(128),
});

export const RequestInput = z.strictObject({
  action: RequestAction,
  assignmentType: AssignmentType,
  principalId: PrincipalId.optional(),
  principalType: PrincipalType.default('user'),
  roleId: Slug,
  scope: Scope.default('/'),
  justification: Justification.optional(),
  ticket: Ticket.optional(),
  schedule: ScheduleInput.optional(),
  validateOnly: z.boolean().default(false),
});
export type RequestInput = z.infer<typeof RequestInput>;

export const Decision = z.object({
  approverId: z.string(),
  decision: z.enum(['Approve', 'Deny']),
  justification: z.string().nullable(),
  at: z.string(),
});

export const Request = z.object({
  id: z.string(),
  action: RequestAction,
  status: RequestStatus,
  assignmentType: AssignmentType,
  principalId: z.string(),
  principalType: PrincipalType,
  roleId: z.string(),
  scope: z.string(),
  /**
   * The scope of the role policy the request was decided under (the most specific one covering `scope`, when it
   * was made): every check of it, now and later (approval stages, extension limits, mail), uses that policy.
   */
  policyScope: z.string(),
  justification: z.string().nullable(),
  ticket: Ticket.nullable(),
  schedule: z.object({
    startDateTime: z.string(),
    expiration: z.object({ type: z.string(), endDateTime: z.string().nullable(), duration: z.string().nullable() }),
  }),
  createdBy: z.string(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  assignmentId: z.string().nullable(),
  approval: z.object({
    stages: z.array(
      z.object({
        status: z.enum(['NotStarted', 'Pending', 'Approved', 'Denied', 'TimedOut', 'Canceled']),
        approvers: z.array(z.object({ type: z.enum(['user', 'group', 'groupOwners', 'role']), id: z.string() })),
        requiredApprovals: z.int(),
        timeout: z.string(),
        deadline: z.string().nullable(),
        decisions: z.array(Decision),
      }),
    ),
  }),
  /** The eligible assignment an activation stands on. */
  eligibilityId: z.string().nullable(),
  /** Why a Failed request failed (the AWS reason when provisioning failed); null otherwise. */
  failureReason: z.string().nullable(),
});
export type Request = z.infer<typeof Request>;

// ---- the request state machine ------------------------------------------------------------------

/**
 * Where a request may go from each status: the one table every status change is checked against (`transition`).
 * A request is created in its first status (PendingApproval, Scheduled, Granted, or Revoked for a removal or a
 * deactivation, which is carried out as it is asked); from then on it only moves along these edges.
 * - PendingApproval: decided (Denied; Scheduled when approved before its start; Granted or Provisioning when
 *   approved and due), withdrawn (Canceled), out of time (TimedOut), or no longer grantable (Failed).
 * - Scheduled: granted at its start (Granted, or Provisioning), withdrawn or superseded (Canceled), or Failed.
 * - Provisioning: its targets provisioned (Granted), one failed (Failed), or rolled back (Revoked).
 * - Granted: its assignment removed (Revoked).
 * To add a status, add its row here and the edges into it; the unit test lists every pair.
 */
const NEXT: Readonly<Record<RequestStatus, readonly RequestStatus[]>> = {
  PendingApproval: ['Provisioning', 'Granted', 'Scheduled', 'Denied', 'Canceled', 'TimedOut', 'Failed'],
  Scheduled: ['Provisioning', 'Granted', 'Canceled', 'Revoked', 'Failed'],
  Provisioning: ['Granted', 'Failed', 'Revoked'],
  Granted: ['Revoked'],
  Denied: [],
  Canceled: [],
  TimedOut: [],
  Revoked: [],
  Failed: [],
};

/** A status a request never leaves. */
export const isFinal = (s: RequestStatus): boolean => NEXT[s].length === 0;

export const canTransition = (from: RequestStatus, to: RequestStatus): boolean => NEXT[from].includes(to);

/** A status change the state machine does not allow: a 409, the request having moved on meanwhile. */
export class IllegalTransition extends DomainError {
  constructor(
    readonly requestId: string,
    readonly from: RequestStatus,
    readonly to: RequestStatus,
  ) {
    super('Conflict', `request '${requestId}' is ${from} and cannot become ${to}`);
    this.name = 'IllegalTransition';
  }
}

/**
 * The request moved to status `to` at `now`, or IllegalTransition. Leaving PendingApproval decides the request:
 * `decidedAt` is set then (and kept afterwards: a request is decided once).
 */
export function transition<R extends Pick<Request, 'id' | 'status' | 'decidedAt'>>(
  request: R,
  to: RequestStatus,
  now: Date,
): R {
  if (!canTransition(request.status, to)) throw new IllegalTransition(request.id, request.status, to);
  return { ...request, status: to, decidedAt: request.decidedAt ?? now.toISOString() };
}

/** The statuses a request may be created in. */
export const INITIAL_STATUSES: readonly RequestStatus[] = ['PendingApproval', 'Scheduled', 'Granted', 'Revoked'];

/** A request is created waiting (PendingApproval, Scheduled) or carried out (Granted, Revoked); never otherwise. */
export function checkInitialStatus(status: RequestStatus): void {
  if (!INITIAL_STATUSES.includes(status)) {
    throw new DomainError('Conflict', `a request is never created ${status}; it becomes ${status} by a transition`);
  }
}

// ---- actions -------------------------------------------------------------------------------------

/**
 * Does a request of this action hold its slot's pending marker while it waits (for a decision or a start)? Every
 * self action does, except a deactivation (carried out at once); an admin action never does.
 */
export const holdsPending = (a: RequestAction): boolean => !isAdminAction(a) && a !== 'selfDeactivate';

/** The principal a request acts on (a self action: always the caller, a user; an admin action: the one named). */
export function checkActor(
  action: RequestAction,
  named: { principalId?: string | undefined; principalType?: PrincipalType | undefined },
  callerId: string,
): void {
  if (isAdminAction(action)) {
    if (!named.principalId) {
      throw invalid('an admin action names the principal', [{ path: 'principalId', message: 'required' }]);
    }
    return;
  }
  if (named.principalId && named.principalId !== callerId) {
    throw new DomainError(
      'Forbidden',
      `'${action}' acts on your own assignments only; an administrator uses the admin actions for others`,
    );
  }
  checkSelfPrincipalType(action, named.principalType);
}

/** Only the requester withdraws a request, and only while it waits (for a decision, or for its start). */
export function checkCancel(request: Pick<Request, 'status' | 'createdBy' | 'action'>, callerId: string): void {
  if (request.createdBy !== callerId) throw new DomainError('Forbidden', 'only the requester can cancel a request');
  if (!mayBeCanceled(request)) {
    throw new DomainError('Conflict', `the request is ${request.status}; only a pending request can be canceled`);
  }
}

/** Waiting: for a decision, or (a self request holding its slot) for its start. */
export const mayBeCanceled = (request: Pick<Request, 'status' | 'action'>): boolean =>
  request.status === 'PendingApproval' || (request.status === 'Scheduled' && holdsPending(request.action));
