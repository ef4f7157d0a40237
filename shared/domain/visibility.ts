import type { Caller } from '../auth/caller.ts';
import { type Approval, type ApproverFacts, isApprover } from './approval.ts';

/**
 * Who may see a request (and so learn that it exists): its requester and its subject, the approvers of any of
 * its stages, administrators and auditors. Everyone else gets the same 404 from every route of it as for a
 * request that does not exist.
 */
export interface RequestParties {
  principalType: string;
  principalId: string;
  createdBy: string;
  approval: Approval;
}

export function maySeeRequest(r: RequestParties, caller: Caller, facts: ApproverFacts & { auditor: boolean }): boolean {
  // A token is always a user: a group's request is not seen by a user whose id happens to equal the group's.
  if ((r.principalType === 'user' && r.principalId === caller.id) || r.createdBy === caller.id) return true;
  if (facts.admin || facts.auditor) return true;
  return r.approval.stages.some((stage) => isApprover(stage, caller, facts));
}
