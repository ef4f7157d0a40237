import type { Caller } from '../auth/caller.ts';
import type { Approval } from '../domain/approval.ts';
import { stageTimeoutSeconds } from '../domain/approval.ts';
import type { Assignment } from '../domain/assignment.ts';
import { notFound } from '../domain/errors.ts';
import { executionHorizon, waitTimestamp } from '../domain/execution.ts';
import { checkInitialStatus, type Request, type RequestInput, type RequestStatus } from '../domain/request.ts';
import type { Expiration, ResolvedSchedule } from '../domain/schedule.ts';
import { newId } from '../ids.ts';
import type { RequestFacts } from '../notifications/templates.ts';
import type { WorkflowInput } from '../ports/workflow.ts';
import { keys, type RequestRecord, stored } from '../store/records.ts';
import type { Store } from '../store/store.ts';

/** Building, reading and presenting request records, shared by every action. A request is created in `status`. */
export function newRequestRecord(
  caller: Pick<Caller, 'id'>,
  now: Date,
  input: Pick<
    RequestInput,
    'action' | 'assignmentType' | 'principalType' | 'roleId' | 'scope' | 'justification' | 'ticket'
  > & { policyScope: string },
  principalId: string,
  schedule: ResolvedSchedule,
  expiration: Expiration,
  status: RequestStatus,
  approval: Approval = { stages: [] },
): RequestRecord {
  checkInitialStatus(status);
  const nowIso = now.toISOString();
  return {
    id: newId('req', now),
    action: input.action,
    status,
    assignmentType: input.assignmentType,
    principalId,
    principalType: input.principalType,
    roleId: input.roleId,
    scope: input.scope,
    policyScope: input.policyScope,
    justification: input.justification ?? null,
    ticket: input.ticket ?? null,
    schedule: {
      startDateTime: schedule.start.toISOString(),
      expiration: {
        type: expiration.type,
        endDateTime: schedule.end?.toISOString() ?? null,
        duration: expiration.type === 'afterDuration' ? expiration.duration : null,
      },
    },
    createdBy: caller.id,
    createdAt: nowIso,
    decidedAt: approval.stages.length ? null : nowIso,
    assignmentId: null,
    approval,
    eligibilityId: null,
    failureReason: null,
    version: 1,
    taskToken: null,
  };
}

/** What the API shows of a request (no version counter, no task token). */
export function presentRequest(r: RequestRecord): Request {
  const { version: _v, taskToken: _t, ...rest } = r;
  // Requests stored before `failureReason` existed show null; before `policyScope`, the base policy's `/`.
  return { ...rest, failureReason: r.failureReason ?? null, policyScope: r.policyScope ?? '/' };
}

export async function readRequest(store: Store, id: string): Promise<RequestRecord> {
  const item = await store.get(keys.request(id));
  if (!item) throw notFound(`request '${id}'`);
  return stored.request.fromItem(item);
}

export const targetOf = (r: Pick<Request, 'principalId' | 'roleId' | 'scope' | 'assignmentId' | 'id'>) => ({
  principalId: r.principalId,
  roleId: r.roleId,
  scope: r.scope,
  assignmentId: r.assignmentId,
  requestId: r.id,
});

export const slotOf = (r: Pick<Request, 'principalType' | 'principalId' | 'roleId' | 'assignmentType' | 'scope'>) => ({
  principalType: r.principalType,
  principalId: r.principalId,
  roleId: r.roleId,
  assignmentType: r.assignmentType,
  scope: r.scope,
});

/**
 * When a workflow wakes up for an end: the end itself, rounded up to the second (Step Functions truncates a wait's
 * timestamp). A wait past the execution's horizon is carried on by a new execution (see domain/execution.ts).
 */
export function waitUntil(end: string | null, _now: Date): string | null {
  return end === null ? null : waitTimestamp(end);
}

export function workflowInput(
  r: RequestRecord,
  phase: WorkflowInput['phase'],
  now: Date,
  end: string | null = null,
): WorkflowInput {
  const current = r.approval.stages.find((s) => s.status === 'Pending');
  const until = waitUntil(end, now);
  return {
    requestId: r.id,
    phase,
    startDateTime: waitTimestamp(r.schedule.startDateTime),
    horizon: executionHorizon(now),
    stage: Math.max(
      0,
      r.approval.stages.findIndex((s) => s.status === 'Pending'),
    ),
    stageTimeoutSeconds: current ? stageTimeoutSeconds(current) : 0,
    ...(phase === 'expiry' && until ? { grant: { granted: true, waitUntil: until } } : {}),
    endDateTime: end,
    stages: r.approval.stages.map((s) => ({ timeoutSeconds: stageTimeoutSeconds(s) })),
  };
}

export function factsOf(
  r: RequestRecord,
  roleName: string,
  principalName: string | null,
  assignment?: Assignment,
): RequestFacts {
  return {
    id: r.id,
    action: r.action,
    principalId: r.principalId,
    principalName,
    roleId: r.roleId,
    roleName,
    scope: r.scope,
    justification: r.justification,
    ticket: r.ticket,
    startDateTime: assignment?.startDateTime ?? r.schedule.startDateTime,
    endDateTime: assignment?.endDateTime ?? r.schedule.expiration.endDateTime,
  };
}
