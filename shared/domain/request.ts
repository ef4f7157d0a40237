import * as z from 'zod';
import { AssignmentType } from './assignment.ts';
import { Justification, PrincipalId, PrincipalType, Slug, Text } from './primitives.ts';
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

const FINAL: ReadonlySet<RequestStatus> = new Set(['Denied', 'Canceled', 'TimedOut', 'Revoked', 'Failed']);

const NEXT: Record<RequestStatus, readonly RequestStatus[]> = {
  PendingApproval: ['Granted', 'Provisioning', 'Scheduled', 'Denied', 'Canceled', 'TimedOut', 'Failed'],
  Scheduled: ['Granted', 'Provisioning', 'Canceled', 'Revoked', 'Failed'],
  /** The grant is being made in AWS: Granted once every target is there, Failed (rolled back) when one fails. */
  Provisioning: ['Granted', 'Failed', 'Revoked'],
  Granted: ['Revoked'],
  Denied: [],
  Canceled: [],
  TimedOut: [],
  Revoked: [],
  Failed: [],
};

export const isFinal = (s: RequestStatus): boolean => FINAL.has(s);

export const canTransition = (from: RequestStatus, to: RequestStatus): boolean => NEXT[from].includes(to);

/** Actions an admin takes on someone's assignment, and actions a principal takes on its own. */
export const isAdminAction = (a: RequestAction): boolean => a.startsWith('admin');
