import type { Caller } from '../auth/caller.ts';
import { durationMs } from './duration.ts';
import { DomainError, forbidden } from './errors.ts';
import type { RolePolicy } from './policy.ts';

/**
 * Approval of a request: stages run in order; a stage passes when `requiredApprovals` distinct approvers
 * approve, and the request fails at the first deny. Pure: the store and the workflow apply what this decides.
 */
export type ApproverRef = { type: 'user' | 'group' | 'groupOwners' | 'role'; id: string };

export type StageStatus = 'NotStarted' | 'Pending' | 'Approved' | 'Denied' | 'TimedOut' | 'Canceled';

export interface StageDecision {
  approverId: string;
  decision: 'Approve' | 'Deny';
  justification: string | null;
  at: string;
}

export interface Stage {
  status: StageStatus;
  approvers: ApproverRef[];
  requiredApprovals: number;
  timeout: string;
  /** When the stage times out (set when it starts). */
  deadline: string | null;
  decisions: StageDecision[];
}

export interface Approval {
  stages: Stage[];
}

/** The stages a request must pass, from the policy; empty when the policy needs no approval. */
export function stagesFromPolicy(policy: RolePolicy): Stage[] {
  if (!policy.activation.approval.required) return [];
  return policy.activation.approval.stages.map((s) => ({
    status: 'NotStarted',
    approvers: s.approvers,
    requiredApprovals: s.requiredApprovals,
    timeout: s.timeout,
    deadline: null,
    decisions: [],
  }));
}

/** One stage that any active administrator can approve (extending or renewing an assignment yourself). */
export function adminApprovalStage(timeout = 'PT24H'): Stage {
  return {
    status: 'NotStarted',
    approvers: [{ type: 'role', id: 'elevate-admin' }],
    requiredApprovals: 1,
    timeout,
    deadline: null,
    decisions: [],
  };
}

export const stageTimeoutSeconds = (stage: Pick<Stage, 'timeout'>): number =>
  Math.round(durationMs(stage.timeout) / 1000);

/** Starts stage `index` at `now` (sets its deadline). */
export function startStage(approval: Approval, index: number, now: Date): Approval {
  return {
    stages: approval.stages.map((s, i) =>
      i === index
        ? { ...s, status: 'Pending', deadline: new Date(now.getTime() + stageTimeoutSeconds(s) * 1000).toISOString() }
        : s,
    ),
  };
}

export const currentStageIndex = (approval: Approval): number =>
  approval.stages.findIndex((s) => s.status === 'Pending');

/** What the caller is, beyond its token: administrator, Elevate group member, Elevate group owner. */
export interface ApproverFacts {
  admin: boolean;
  memberOf?: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  ownerOf?: ReadonlySet<string> | ReadonlyMap<string, unknown>;
}

/** Is the caller one of the stage's approvers? */
export function isApprover(stage: Stage, caller: Caller, facts: ApproverFacts): boolean {
  const matches: Record<ApproverRef['type'], (id: string) => boolean> = {
    user: (id) => id === caller.id,
    group: (id) => caller.groups.includes(id) || !!facts.memberOf?.has(id),
    groupOwners: (id) => !!facts.ownerOf?.has(id),
    role: () => facts.admin,
  };
  return stage.approvers.some((a) => matches[a.type](a.id));
}

/** The parts of a request that decide who may decide on it. */
export interface Decidable {
  status: string;
  principalId: string;
  createdBy: string;
  approval: Approval;
}

/**
 * Four eyes: a request is never decided by the principal it is for nor by the one who asked for it, whatever their
 * authority. Compared by id alone: a user whose id equals a group's does not decide that group's requests either
 * (a refusal errs on the safe side).
 */
export const isOwnRequest = (r: Pick<Decidable, 'principalId' | 'createdBy'>, callerId: string): boolean =>
  r.principalId === callerId || r.createdBy === callerId;

/**
 * Why the caller may not decide on the request now, in a fixed order, or null when they may: it must be waiting
 * for a decision (409 AlreadyDecided), not the caller's own (403 SelfApprovalForbidden), and the caller must be
 * an approver of its current stage (403). A second decision by the same approver in the same stage is refused by
 * `decide` (the HTTP call checks MFA in between); the approvals list leaves such requests out (`mayDecide`).
 */
export function decisionRefusal(r: Decidable, caller: Caller, facts: ApproverFacts): DomainError | null {
  if (r.status !== 'PendingApproval') {
    return new DomainError('AlreadyDecided', `the request is ${r.status}, no longer waiting for a decision`);
  }
  if (isOwnRequest(r, caller.id)) {
    return new DomainError('SelfApprovalForbidden', 'you cannot decide on your own request');
  }
  const stage = r.approval.stages[currentStageIndex(r.approval)];
  if (!stage || !isApprover(stage, caller, facts)) {
    return forbidden('you are not an approver of the current stage of this request');
  }
  return null;
}

/** May the caller decide on the request now (what GET /v1/approvals lists)? Not when they already decided its stage. */
export function mayDecide(r: Decidable, caller: Caller, facts: ApproverFacts): boolean {
  if (decisionRefusal(r, caller, facts)) return false;
  const stage = r.approval.stages[currentStageIndex(r.approval)];
  return !stage?.decisions.some((d) => d.approverId === caller.id);
}

/** Does the caller approve only through elevate-admin (then it decides with admin authority: MFA required)? */
export const approvesAsAdminOnly = (stage: Stage, caller: Caller, facts: ApproverFacts): boolean =>
  isApprover(stage, caller, facts) && !isApprover(stage, caller, { ...facts, admin: false });

export type DecisionOutcome =
  /** The stage still needs approvals. */
  | { kind: 'recorded'; approval: Approval }
  /** The stage passed; `next` is the next stage's index, or null when it was the last one. */
  | { kind: 'stagePassed'; approval: Approval; next: number | null }
  | { kind: 'denied'; approval: Approval };

/**
 * Applies one approver's decision to the current stage. Refuses a second decision by the same approver
 * in the same stage, and any decision once the request is no longer pending.
 */
export function decide(approval: Approval, decision: StageDecision, now: Date): DecisionOutcome {
  const index = currentStageIndex(approval);
  const stage = approval.stages[index];
  if (!stage) throw new DomainError('AlreadyDecided', 'the request is not waiting for a decision');
  if (stage.decisions.some((d) => d.approverId === decision.approverId)) {
    throw new DomainError('AlreadyDecided', 'you have already decided on this stage of the request');
  }
  const decided: Stage = { ...stage, decisions: [...stage.decisions, decision] };
  const withStage = (s: Stage): Approval => ({ stages: approval.stages.map((x, i) => (i === index ? s : x)) });
  if (decision.decision === 'Deny') return { kind: 'denied', approval: withStage({ ...decided, status: 'Denied' }) };
  const approvals = new Set(decided.decisions.filter((d) => d.decision === 'Approve').map((d) => d.approverId)).size;
  if (approvals < decided.requiredApprovals) return { kind: 'recorded', approval: withStage(decided) };
  const passed = withStage({ ...decided, status: 'Approved' });
  const next = index + 1 < approval.stages.length ? index + 1 : null;
  return { kind: 'stagePassed', approval: next === null ? passed : startStage(passed, next, now), next };
}

/** Marks the current stage (if any) with a final status: TimedOut or Canceled. */
export function closeCurrentStage(approval: Approval, status: 'TimedOut' | 'Canceled'): Approval {
  return { stages: approval.stages.map((s) => (s.status === 'Pending' ? { ...s, status } : s)) };
}
