/** The shapes of the API's answers the CLI reads (see docs/openapi.json); extra fields pass through. */

export interface Assignment {
  id: string;
  principalId: string;
  principalType: string;
  roleId: string;
  scope: string;
  assignmentType: 'eligible' | 'active';
  origin: 'assigned' | 'activated';
  status: string;
  startDateTime: string;
  endDateTime: string | null;
  requestId: string | null;
  eligibilityId?: string | null;
  extensions?: number;
  /** Where the grant stands in AWS IAM Identity Center (NotRequired for roles without targets). */
  provisioning?: { status: string; targets: { status: string; failureReason: string | null }[] };
}

export interface Stage {
  status: string;
  approvers?: { type: string; id: string }[];
  requiredApprovals?: number;
  deadline?: string | null;
  decisions: { approverId: string; decision: string; justification: string | null; at: string }[];
}

export interface AccessRequest {
  id: string;
  action: string;
  status: string;
  assignmentType: string;
  principalId: string;
  roleId: string;
  scope: string;
  justification: string | null;
  ticket: { system: string; number: string } | null;
  schedule: {
    startDateTime: string;
    expiration: { type: string; endDateTime: string | null; duration: string | null };
  };
  createdBy: string;
  createdAt: string;
  decidedAt: string | null;
  assignmentId: string | null;
  approval: { stages: Stage[] };
  /** Why a Failed request failed (the AWS reason when provisioning failed). */
  failureReason?: string | null;
}

export const FINAL_STATUSES = new Set(['Granted', 'Scheduled', 'Denied', 'Canceled', 'TimedOut', 'Revoked', 'Failed']);
export const NOT_GRANTED = new Set(['Denied', 'Canceled', 'TimedOut', 'Failed']);
