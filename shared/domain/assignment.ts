import * as z from 'zod';
import { DomainError } from './errors.ts';
import { effectiveStatus, inForce, isLive } from './gate.ts';
import { PrincipalType } from './primitives.ts';
import { type Provisioning, ProvisioningStatus } from './provisioning.ts';

export const AssignmentType = z.enum(['eligible', 'active']);
export type AssignmentType = z.infer<typeof AssignmentType>;

export const AssignmentStatus = z.enum(['Scheduled', 'Active', 'Expired', 'Revoked']);
export type AssignmentStatus = z.infer<typeof AssignmentStatus>;

export const Assignment = z.object({
  id: z.string(),
  principalId: z.string(),
  principalType: PrincipalType,
  roleId: z.string(),
  scope: z.string(),
  assignmentType: AssignmentType,
  origin: z.enum(['assigned', 'activated']),
  status: AssignmentStatus,
  startDateTime: z.string(),
  endDateTime: z.string().nullable(),
  requestId: z.string().nullable(),
  eligibilityId: z.string().nullable(),
  extensions: z.int(),
  justification: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.int(),
});
/**
 * An assignment as stored. `provisioning` (provisioning.md, "States"): where an active grant of a role with targets
 * stands in AWS; absent when nothing is provisioned for it (NotRequired).
 */
export type Assignment = z.infer<typeof Assignment> & { provisioning?: Provisioning | undefined };

/** GET /v1/access: does the principal hold the role at the scope now, and which assignment says so. */
export const AccessAnswer = z.object({
  allowed: z.boolean(),
  assignmentId: z.string().nullable(),
  expiresAt: z.string().nullable(),
  viaGroup: z
    .string()
    .nullable()
    .meta({ description: 'the Elevate group through which the role is held; null when held directly' }),
  provisioning: ProvisioningStatus.nullable().meta({
    description:
      'where the assignment that answers stands in AWS IAM Identity Center (provisioning.md); null when not allowed',
  }),
});
export type AccessAnswer = z.infer<typeof AccessAnswer>;

// Whether an assignment is live, its status as of now and whether it grants its role now are asked by every call's
// gate (the caller's authority): gate.ts.
export { effectiveStatus, inForce, isLive };

/** The assignment as a reader sees it at `now`. */
export const asOf = <A extends Assignment>(a: A, now: Date): A => ({ ...a, status: effectiveStatus(a, now) });

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The reminder due to the holder of a time-bound assignment at `now`: '1h' within its last hour, '1d' within its last
 * day; each only for an assignment that lasts longer than that (a 30-minute activation gets no hour's notice).
 */
export function reminderDue(a: Pick<Assignment, 'startDateTime' | 'endDateTime'>, now: Date): '1h' | '1d' | undefined {
  if (a.endDateTime === null) return undefined;
  const left = Date.parse(a.endDateTime) - now.getTime();
  const lasts = Date.parse(a.endDateTime) - Date.parse(a.startDateTime);
  if (left <= HOUR_MS && lasts > HOUR_MS) return '1h';
  if (left <= DAY_MS && lasts > DAY_MS) return '1d';
  return undefined;
}

/**
 * The start of a scheduled assignment at `now` by request `requestId`: only by the assignment's current request (a
 * moved start supersedes the request of the old one), and only once it is due (never early).
 */
export function checkStart(requestId: string, a: Pick<Assignment, 'requestId' | 'startDateTime'>, now: Date): void {
  if (a.requestId !== requestId) {
    throw new DomainError('Conflict', `request '${requestId}' was superseded by '${a.requestId}'`);
  }
  if (Date.parse(a.startDateTime) > now.getTime()) {
    throw new DomainError('Conflict', `the assignment starts at ${a.startDateTime}, not before`);
  }
}
