import type { Assignment } from '../domain/assignment.ts';
import { DomainError, forbidden, invalid, notFound } from '../domain/errors.ts';
import type { Request, RequestInput, RequestStatus } from '../domain/request.ts';
import { checkAdminAssignment, defaultAssignmentExpiration } from '../domain/rules.ts';
import { type Expiration, type ResolvedSchedule, resolveExpiration, resolveSchedule } from '../domain/schedule.ts';
import { newId } from '../ids.ts';
import { keys, ops, type QueryPart, queries, strip, type WriteOp } from '../store/records.ts';
import type { Page } from '../store/store.ts';
import { readLive } from './assignments.ts';
import type { Ctx } from './context.ts';
import { readPolicy, requireRole } from './roles.ts';

export type RequestOutcome = { kind: 'created'; status: 201 | 202; request: Request } | { kind: 'valid' };

/**
 * POST /v1/requests. Every change to an assignment is a request: it is checked against authority and
 * the role's policy, and either refused (only the refusal's audit event is written) or carried out in
 * one transaction with its audit events.
 */
export async function createRequest(ctx: Ctx, input: RequestInput): Promise<RequestOutcome> {
  try {
    return await carryOut(ctx, input);
  } catch (error) {
    if (error instanceof DomainError && error.code !== 'ValidationFailed' && !input.validateOnly) {
      await recordRefusal(ctx, input, error);
    }
    throw error;
  }
}

async function carryOut(ctx: Ctx, input: RequestInput): Promise<RequestOutcome> {
  if (!input.action.startsWith('admin')) {
    throw invalid(`the action '${input.action}' is not available in this version of Elevate`, [
      { path: 'action', message: 'use adminAssign, adminUpdate or adminRemove' },
    ]);
  }
  if (!input.principalId)
    throw invalid('an admin action names the principal', [{ path: 'principalId', message: 'required' }]);
  await ctx.requireAdmin(`the action '${input.action}'`);
  const principalId = input.principalId;
  await requireRole(ctx.store, input.roleId);
  const { policy } = await readPolicy(ctx.store, input.roleId);
  const slot = { principalId, roleId: input.roleId, assignmentType: input.assignmentType, scope: input.scope };

  switch (input.action) {
    case 'adminAssign': {
      const fallback = defaultAssignmentExpiration(policy, input.assignmentType, input.principalType);
      const schedule = resolveSchedule(input.schedule, ctx.now, fallback);
      checkAdminAssignment({
        policy,
        assignmentType: input.assignmentType,
        principalType: input.principalType,
        schedule,
        justification: input.justification,
        actorMfa: ctx.caller.mfa,
      });
      if (input.validateOnly) return { kind: 'valid' };
      const request = newRequest(ctx, input, principalId, schedule, input.schedule?.expiration ?? fallback);
      const assignment = newAssignment(ctx, input, principalId, schedule, request.id);
      request.assignmentId = assignment.id;
      request.status = assignment.status === 'Scheduled' ? 'Scheduled' : 'Granted';
      await ctx.store.transact([
        ...ops.createAssignment(assignment),
        ops.createRequest(request),
        ctx.audit('request.created', targetOf(request), { request }),
        ctx.audit('assignment.assigned', targetOf(request), { assignment }),
        ...ctx.remember(201, request),
      ]);
      return { kind: 'created', status: 201, request };
    }
    case 'adminUpdate': {
      const current = await readLive(ctx.store, slot);
      if (!current)
        throw notFound(
          `a live ${input.assignmentType} assignment of role '${input.roleId}' for '${principalId}' at '${input.scope}'`,
        );
      // What the update names changes; what it leaves out stays as it was.
      const requestedStart = input.schedule?.startDateTime;
      const start = requestedStart
        ? new Date(Math.max(Date.parse(requestedStart), ctx.now.getTime()))
        : new Date(current.startDateTime);
      const keep: Expiration = current.endDateTime
        ? { type: 'afterDateTime', endDateTime: current.endDateTime }
        : { type: 'noExpiration' };
      const schedule = resolveExpiration(start, input.schedule?.expiration ?? keep);
      if (schedule.end && schedule.end <= ctx.now) {
        throw invalid('an updated assignment must end in the future; use adminRemove to end it now', [
          { path: 'schedule.expiration', message: 'ends in the past' },
        ]);
      }
      checkAdminAssignment({
        policy,
        assignmentType: input.assignmentType,
        principalType: current.principalType,
        schedule,
        justification: input.justification,
        actorMfa: ctx.caller.mfa,
      });
      if (input.validateOnly) return { kind: 'valid' };
      const request = newRequest(ctx, input, principalId, schedule, input.schedule?.expiration ?? keep);
      const updated: Assignment = {
        ...current,
        startDateTime: schedule.start.toISOString(),
        endDateTime: schedule.end?.toISOString() ?? null,
        status: schedule.start > ctx.now ? 'Scheduled' : 'Active',
        requestId: request.id,
        justification: input.justification ?? current.justification,
        updatedAt: ctx.now.toISOString(),
        version: current.version + 1,
      };
      request.assignmentId = current.id;
      request.status = updated.status === 'Scheduled' ? 'Scheduled' : 'Granted';
      await ctx.store.transact([
        ...ops.replaceAssignment(updated, current.version),
        ops.createRequest(request),
        ctx.audit('request.created', targetOf(request), { request }),
        ctx.audit('assignment.updated', targetOf(request), { before: current, after: updated }),
        ...ctx.remember(201, request),
      ]);
      return { kind: 'created', status: 201, request };
    }
    case 'adminRemove': {
      const current = await readLive(ctx.store, slot);
      if (!current)
        throw notFound(
          `a live ${input.assignmentType} assignment of role '${input.roleId}' for '${principalId}' at '${input.scope}'`,
        );
      if (input.validateOnly) return { kind: 'valid' };
      const nowIso = ctx.now.toISOString();
      const schedule = { start: ctx.now, end: ctx.now };
      const request = newRequest(ctx, input, principalId, schedule, { type: 'afterDateTime', endDateTime: nowIso });
      request.assignmentId = current.id;
      request.status = 'Revoked';
      const ended: Assignment = {
        ...current,
        status: 'Revoked',
        endDateTime: current.endDateTime && current.endDateTime < nowIso ? current.endDateTime : nowIso,
        updatedAt: nowIso,
        version: current.version + 1,
      };
      await ctx.store.transact([
        ...ops.endAssignment(ended, current.version),
        ops.createRequest(request),
        ctx.audit('request.created', targetOf(request), { request }),
        ctx.audit('assignment.revoked', targetOf(request), { assignment: ended }),
        ...ctx.remember(201, request),
      ]);
      return { kind: 'created', status: 201, request };
    }
    default:
      throw invalid(`the action '${input.action}' is not available in this version of Elevate`);
  }
}

function newRequest(
  ctx: Ctx,
  input: RequestInput,
  principalId: string,
  schedule: ResolvedSchedule,
  expiration: Expiration,
): Request {
  const nowIso = ctx.now.toISOString();
  return {
    id: newId('req', ctx.now),
    action: input.action,
    status: 'Granted',
    assignmentType: input.assignmentType,
    principalId,
    principalType: input.principalType,
    roleId: input.roleId,
    scope: input.scope,
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
    createdBy: ctx.caller.id,
    createdAt: nowIso,
    decidedAt: nowIso,
    assignmentId: null,
    approval: { stages: [] },
  };
}

function newAssignment(
  ctx: Ctx,
  input: RequestInput,
  principalId: string,
  schedule: ResolvedSchedule,
  requestId: string,
): Assignment {
  const nowIso = ctx.now.toISOString();
  return {
    id: newId('asg', ctx.now),
    principalId,
    principalType: input.principalType,
    roleId: input.roleId,
    scope: input.scope,
    assignmentType: input.assignmentType,
    origin: 'assigned',
    status: schedule.start > ctx.now ? 'Scheduled' : 'Active',
    startDateTime: schedule.start.toISOString(),
    endDateTime: schedule.end?.toISOString() ?? null,
    requestId,
    eligibilityId: null,
    extensions: 0,
    justification: input.justification ?? null,
    createdAt: nowIso,
    updatedAt: nowIso,
    version: 1,
  };
}

const targetOf = (r: Pick<Request, 'principalId' | 'roleId' | 'scope' | 'assignmentId' | 'id'>) => ({
  principalId: r.principalId,
  roleId: r.roleId,
  scope: r.scope,
  assignmentId: r.assignmentId,
  requestId: r.id,
});

/**
 * A refused request leaves exactly one trace: its `request.refused` audit event. (A retry with the same
 * Idempotency-Key is judged again: a refusal changes nothing, so judging it twice is safe.)
 */
async function recordRefusal(ctx: Ctx, input: RequestInput, error: DomainError): Promise<void> {
  const writes: WriteOp[] = [
    ctx.audit(
      'request.refused',
      { principalId: input.principalId ?? ctx.caller.id, roleId: input.roleId, scope: input.scope },
      {
        action: input.action,
        assignmentType: input.assignmentType,
        code: error.code,
        status: error.status,
        detail: error.message,
      },
    ),
  ];
  await ctx.store.transact(writes);
}

export interface RequestFilters {
  principalId?: string | undefined;
  roleId?: string | undefined;
  status?: RequestStatus | undefined;
}

export async function listRequests(
  ctx: Ctx,
  filters: RequestFilters,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<Request>> {
  const reader = await ctx.isReader();
  if (!reader && filters.principalId && filters.principalId !== ctx.caller.id) {
    throw forbidden("listing another principal's requests needs elevate-admin or elevate-auditor");
  }
  const principalId = reader ? filters.principalId : ctx.caller.id;
  let part: QueryPart;
  if (principalId) part = queries.requestsOfPrincipal(principalId);
  else if (filters.status) part = queries.requestsByStatus(filters.status);
  else part = queries.allRequests();
  return ctx.store.page([part], {
    ...page,
    filter: (item) =>
      (!principalId || item.principalId === principalId) &&
      (!filters.roleId || item.roleId === filters.roleId) &&
      (!filters.status || item.status === filters.status),
    map: (item) => strip<Request>(item),
  });
}

export async function getRequest(ctx: Ctx, id: string): Promise<Request> {
  const item = await ctx.store.get(keys.request(id));
  const request = item ? strip<Request>(item) : undefined;
  const own = request && (request.principalId === ctx.caller.id || request.createdBy === ctx.caller.id);
  if (!request || (!own && !(await ctx.isReader()))) throw notFound(`request '${id}'`);
  return request;
}
