import {
  activationWindow,
  checkActivation,
  checkActivationType,
  checkDeactivation,
  checkExtension,
} from '../domain/activation.ts';
import { adminApprovalStage, type Stage, stagesFromPolicy, startStage } from '../domain/approval.ts';
import { type Assignment, effectiveStatus, isLive } from '../domain/assignment.ts';
import { eventOfChange } from '../domain/audit.ts';
import { DomainError, invalid, notFound } from '../domain/errors.ts';
import { waitTimestamp } from '../domain/execution.ts';
import { isAdminAction } from '../domain/gate.ts';
import type { RolePolicy } from '../domain/policy.ts';
import { checkActor, type Request, type RequestInput, transition } from '../domain/request.ts';
import { checkAdminAssignment, checkAdminUpdate, checkRenewal, defaultAssignmentExpiration } from '../domain/rules.ts';
import { type Expiration, resolveExpiration, resolveSchedule, resolveStart } from '../domain/schedule.ts';
import { newId } from '../ids.ts';
import * as mail from '../notifications/templates.ts';
import { keys, ops, queries, type RequestRecord, StandingMoved, stored, type WriteOp } from '../store/records.ts';
import { fromLiveSlot, toAssignment } from './assignments.ts';
import type { CallContext } from './context.ts';
import { activeAdmins, type Effect, prepareEffects, quiet, runEffects } from './effects.ts';
import {
  activatedEffects,
  activatedEvent,
  activationOf,
  activationsFitted,
  askedOf,
  type Change,
  endChange,
  endWrites,
  principalName,
  provisioned,
  removalPlan,
  STANDING_ATTEMPTS,
  standingEligibility,
} from './lifecycle.ts';
import { checkGrantReady } from './provisioning.ts';
import { factsOf, newRequestRecord, presentRequest, slotOf, targetOf, workflowInput } from './request-records.ts';
import { type RoleInForce, readRoleInForce, requireRole } from './roles.ts';

export type RequestOutcome = { kind: 'created'; status: 201 | 202; request: Request } | { kind: 'valid' };

/**
 * POST /v1/requests. Every change to an assignment is a request: it is checked against authority and
 * the role's policy, and either refused (only the refusal's audit event is written) or carried out in
 * one transaction with its one audit event (`eventOfChange`: the change's own, recording the request, or
 * `request.created` for a request that waits); what follows (workflow, mail, events) runs after the commit.
 */
export async function createRequest(ctx: CallContext, input: RequestInput): Promise<RequestOutcome> {
  try {
    for (let attempt = 1; ; attempt++) {
      // The audit chain's head is read beside the request's own reads (bench/README.md, the minimal plan).
      const chain = input.validateOnly ? undefined : ctx.store.prepareChain(ctx.now);
      const plan = await planRequest(ctx, input);
      if (plan === 'valid') return { kind: 'valid' };
      const status = plan.request.status === 'PendingApproval' ? 202 : 201;
      const shown = presentRequest(plan.request);
      // What follows the commit is made ready (its reads) while the transaction runs; nothing is sent before it.
      const effects = prepareEffects(ctx.deps, plan.effects(), ctx.log, plan.admins);
      // One audit event per change: the request in the change's own event, or `request.created` when it waits.
      const event = eventOfChange({ target: targetOf(plan.request), request: shown }, plan.event);
      try {
        await ctx.store.transact(
          [
            ...plan.writes,
            // Also the lifecycle events `elevate.request.created` and the change's (no outbox items: issue 18).
            ctx.audit(event.action, event.target, event.details, [
              { type: 'elevate.request.created', detail: { request: shown } },
              ...(plan.event?.publishes ?? []),
            ]),
            ...ctx.remember(shown, status),
          ],
          { ...(chain && { chain }) },
        );
      } catch (error) {
        // An eligibility and an activation of it met: plan again from what is stored now.
        if (error instanceof StandingMoved && attempt < STANDING_ATTEMPTS) continue;
        throw error;
      }
      await effects.run();
      return { kind: 'created', status, request: shown };
    }
  } catch (error) {
    if (error instanceof DomainError && error.code !== 'ValidationFailed' && !input.validateOnly) {
      await recordRefusal(ctx, input, error);
    }
    throw error;
  }
}

interface Plan {
  request: RequestRecord;
  /** The writes of the change but its audit event. */
  writes: WriteOp[];
  /**
   * The change's own audit event when it carries the request out (the request recorded in it: `eventOfChange`);
   * none when the request only waits (for an approval or its start).
   */
  event?: Change['event'];
  /** Built while the transaction runs (reads only, never of what it writes), run once it committed. */
  effects: () => Promise<Effect[]>;
  /** The active administrators, read ahead when the effects may mail them. */
  admins?: Promise<string[]>;
}

/**
 * What a request reads before it is judged, all at once (one round trip, bench/README.md): the role, its policy in
 * force and its targets; the principal's live slots of the role (eligible and active, every scope); for an activation,
 * the slot's pending marker, the principal's name and the administrators its mail may go to. Strongly consistent
 * where the judgement depends on it, as each read was when made one after another.
 */
interface Known {
  role: RoleInForce;
  slots: Assignment[];
  pending?: Promise<unknown>;
  principalName?: Promise<string | null>;
  admins?: Promise<string[]>;
}

const readSlots = async (ctx: CallContext, slot: ReturnType<typeof slotOf>): Promise<Assignment[]> =>
  (await ctx.store.all(queries.live(slot, slot.roleId))).map(fromLiveSlot);

/** The live assignment in one slot, among the principal's live slots of the role. */
const liveIn = (slots: readonly Assignment[], slot: ReturnType<typeof slotOf>): Assignment | undefined =>
  slots.find((a) => a.assignmentType === slot.assignmentType && a.scope === slot.scope);

async function readKnown(ctx: CallContext, input: RequestInput, slot: ReturnType<typeof slotOf>): Promise<Known> {
  const activation =
    input.action === 'selfActivate' || (input.action === 'adminAssign' && slot.assignmentType === 'active');
  const pending =
    input.action === 'selfActivate'
      ? quiet(ctx.store.get(keys.pending({ ...slot, assignmentType: 'active' })))
      : undefined;
  const mail = activation
    ? { principalName: quiet(principalName(ctx.deps, slot)), admins: quiet(activeAdmins(ctx.deps)) }
    : {};
  const [role, slots] = await Promise.all([
    readRoleInForce(ctx.store, input.roleId, input.scope),
    readSlots(ctx, slot),
  ]);
  return { role, slots, ...(pending && { pending }), ...mail };
}

/**
 * The request checked against the caller's authority and the role's policy, as the writes of its change and the
 * effects that follow the commit; 'valid' for a validateOnly call that passed every check. Writes nothing.
 */
async function planRequest(ctx: CallContext, input: RequestInput): Promise<Plan | 'valid'> {
  checkActor(input.action, input, ctx.caller.id);
  const byAdmin = isAdminAction(input.action);
  if (byAdmin) await ctx.requireAdmin(`the action '${input.action}'`);
  const principalId = input.principalId ?? ctx.caller.id;
  // The caller is a user: self actions act on the user, never on a group or service principal of the same id.
  const principalType = byAdmin ? input.principalType : 'user';
  const slot = {
    principalType,
    principalId,
    roleId: input.roleId,
    assignmentType: input.assignmentType,
    scope: input.scope,
  };
  const known = await readKnown(ctx, input, slot);
  // A live slot ended by the sweep is gone: the slots are read again.
  if (await sweepExpired(ctx, liveIn(known.slots, slot))) known.slots = await readSlots(ctx, slot);
  // The policy in force at the request's scope, decided now and recorded on the request (`policyScope`).
  return planAction(ctx, { ...input, policyScope: known.role.scope }, known, principalId, slot);
}

/** A request with the scope of the policy it is decided under. */
type Decided = RequestInput & { policyScope: string };

async function planAction(
  ctx: CallContext,
  input: Decided,
  known: Known,
  principalId: string,
  slot: ReturnType<typeof slotOf>,
): Promise<Plan | 'valid'> {
  const { policy } = known.role;
  switch (input.action) {
    case 'adminAssign':
    case 'adminRenew':
      return adminAssign(ctx, input, known, principalId);
    case 'adminUpdate':
    case 'adminExtend':
      return adminUpdate(ctx, input, policy, requireLive(known, slot));
    case 'adminRemove':
      return adminRemove(ctx, input, requireLive(known, slot));
    case 'selfActivate':
      return selfActivate(ctx, input, known);
    case 'selfDeactivate':
      return selfDeactivate(ctx, input, requireLive(known, slot));
    case 'selfExtend':
    case 'selfRenew':
      return selfExtendOrRenew(ctx, input, policy, slot, liveIn(known.slots, slot));
  }
}

/**
 * A live slot whose end has passed but that no workflow or job has ended yet is ended now, first. True when it
 * was (or another ended it meanwhile).
 */
async function sweepExpired(ctx: CallContext, live: Assignment | undefined): Promise<boolean> {
  if (!live || effectiveStatus(live, ctx.now) !== 'Expired') return false;
  try {
    const step = await endWrites(
      ctx.deps,
      live,
      ctx.now,
      'Expired',
      { id: 'elevate', type: 'system' },
      'assignment.expired',
    );
    await ctx.store.transact(step.writes);
    await runEffects(ctx.deps, step.effects, ctx.log);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
  }
  return true;
}

function requireLive(known: Known, slot: ReturnType<typeof slotOf>): Assignment {
  const live = liveIn(known.slots, slot);
  if (!live) {
    throw notFound(
      `a live ${slot.assignmentType} assignment of role '${slot.roleId}' for '${slot.principalId}' at '${slot.scope}'`,
    );
  }
  return live;
}

// ---- admin actions -----------------------------------------------------------------------------

async function adminAssign(
  ctx: CallContext,
  input: Decided,
  known: Known,
  principalId: string,
): Promise<Plan | 'valid'> {
  const { policy } = known.role;
  const fallback = defaultAssignmentExpiration(policy, input.assignmentType, input.principalType);
  const schedule = resolveSchedule(input.schedule, ctx.now, fallback, policy.maxScheduleAhead);
  checkAdminAssignment({
    policy,
    assignmentType: input.assignmentType,
    principalType: input.principalType,
    schedule,
    justification: input.justification,
    actorMfa: ctx.caller.mfa,
  });
  if (input.action === 'adminRenew' && !(await hadAssignment(ctx, principalId, input))) {
    throw notFound(
      `an ended ${input.assignmentType} assignment of role '${input.roleId}' for '${principalId}' at '${input.scope}' to renew`,
    );
  }
  await checkGrantReady(ctx.deps, { ...input, principalId }, known.role.targets);
  if (input.validateOnly) return 'valid';
  const later = schedule.start > ctx.now;
  const request = newRequestRecord(
    ctx.caller,
    ctx.now,
    input,
    principalId,
    schedule,
    input.schedule?.expiration ?? fallback,
    later ? 'Scheduled' : 'Granted',
  );
  const nowIso = ctx.now.toISOString();
  const assignment: Assignment = {
    id: newId('asg', ctx.now),
    ...slotOf(request),
    principalType: input.principalType,
    origin: 'assigned',
    status: later ? 'Scheduled' : 'Active',
    startDateTime: schedule.start.toISOString(),
    endDateTime: schedule.end?.toISOString() ?? null,
    requestId: request.id,
    eligibilityId: null,
    extensions: 0,
    justification: input.justification ?? null,
    createdAt: nowIso,
    updatedAt: nowIso,
    version: 1,
  };
  request.assignmentId = assignment.id;
  const holds =
    assignment.status === 'Active' ? await provisioned(ctx.deps, request, assignment, ctx.now, known.role.targets) : [];
  return {
    request,
    writes: [...ops.createAssignment(assignment), ...holds, ops.createRequest(request)],
    event: {
      action: input.action === 'adminRenew' ? 'assignment.renewed' : 'assignment.assigned',
      target: targetOf(request),
      details: { assignment },
      publishes: assignment.status === 'Active' ? [activatedEvent(request, assignment)] : [],
    },
    effects: async () => [
      ...startAccessWorkflow(request, assignment, ctx.now),
      ...(assignment.status === 'Active'
        ? await activatedEffects(ctx.deps, request, assignment, mailFacts(known))
        : []),
    ],
    ...(known.admins && { admins: known.admins }),
  };
}

/** What an activation's mail needs, as the request already read it. */
const mailFacts = (known: Known) => ({
  role: known.role.role,
  policy: known.role.policy,
  principalName: known.principalName ?? Promise.resolve(null),
});

async function hadAssignment(ctx: CallContext, principalId: string, input: RequestInput): Promise<boolean> {
  const items = await ctx.store.all(
    queries.assignmentsOfPrincipal({ principalType: input.principalType, principalId }),
    false,
  );
  return items.some(
    (i) => i.roleId === input.roleId && i.assignmentType === input.assignmentType && i.scope === input.scope,
  );
}

/**
 * Starts the access workflow that keeps an assignment's time: its start (when in the future) and its end; a grant
 * being made in AWS first (Provisioning), then its end.
 */
function startAccessWorkflow(r: RequestRecord, a: Assignment, now: Date): Effect[] {
  if (a.status === 'Scheduled') return [{ kind: 'startWorkflow', name: r.id, input: workflowInput(r, 'start', now) }];
  if (r.status === 'Provisioning') return [{ kind: 'startWorkflow', name: r.id, input: provisionInput(r, a, now) }];
  if (a.endDateTime)
    return [{ kind: 'startWorkflow', name: r.id, input: workflowInput(r, 'expiry', now, a.endDateTime) }];
  return [];
}

/** The execution of a grant made now that is being made in AWS: the `provision` step first, then its end. */
function provisionInput(r: RequestRecord, a: Assignment, now: Date) {
  const input = workflowInput(r, 'provision', now, a.endDateTime);
  return {
    ...input,
    grant: {
      granted: true as const,
      waitUntil: input.endDateTime ? waitTimestamp(input.endDateTime) : null,
      provisioning: true,
      waitSeconds: 0,
      assignmentId: a.id,
    },
  };
}

async function adminUpdate(
  ctx: CallContext,
  input: Decided,
  policy: RolePolicy,
  current: Assignment,
): Promise<Plan | 'valid'> {
  // What the update names changes; what it leaves out stays as it was.
  const requestedStart = input.schedule?.startDateTime;
  const start = requestedStart
    ? resolveStart(requestedStart, ctx.now, policy.maxScheduleAhead)
    : new Date(current.startDateTime);
  const keep: Expiration = current.endDateTime
    ? { type: 'afterDateTime', endDateTime: current.endDateTime }
    : { type: 'noExpiration' };
  const schedule = resolveExpiration(start, input.schedule?.expiration ?? keep);
  checkAdminUpdate(
    input.action === 'adminExtend' ? 'adminExtend' : 'adminUpdate',
    current.endDateTime,
    schedule,
    ctx.now,
  );
  checkAdminAssignment({
    policy,
    assignmentType: input.assignmentType,
    principalType: current.principalType,
    schedule,
    justification: input.justification,
    actorMfa: ctx.caller.mfa,
  });
  if (input.validateOnly) return 'valid';
  const later = schedule.start > ctx.now;
  const request = newRequestRecord(
    ctx.caller,
    ctx.now,
    input,
    current.principalId,
    schedule,
    input.schedule?.expiration ?? keep,
    later ? 'Scheduled' : 'Granted',
  );
  const updated: Assignment = {
    ...current,
    startDateTime: schedule.start.toISOString(),
    endDateTime: schedule.end?.toISOString() ?? null,
    status: later ? 'Scheduled' : 'Active',
    requestId: request.id,
    justification: input.justification ?? current.justification,
    updatedAt: ctx.now.toISOString(),
    version: current.version + 1,
  };
  request.assignmentId = current.id;
  const startsNow = current.status === 'Scheduled' && updated.status === 'Active';
  const holds = startsNow ? await provisioned(ctx.deps, request, updated, ctx.now) : [];
  // A start still to come is kept by the request that set it: this one supersedes it (its workflow is stopped,
  // and its grant step would refuse it anyway: it is no longer the assignment's current request).
  const superseded = current.status === 'Scheduled' ? await supersede(ctx, current, request) : undefined;
  // The activations standing on an eligibility follow it: shortened with it, ended when it no longer stands now.
  const fitted =
    current.assignmentType === 'eligible'
      ? await activationsFitted(ctx.deps, current, updated, ctx.now, ctx.actor)
      : { endings: [], writes: [], effects: [], lastUse: undefined };
  return {
    request,
    writes: [
      ...ops.replaceAssignment(updated, current.version, fitted.lastUse),
      ...holds,
      ...(fitted.endings.length ? ops.endAssignments(fitted.endings) : []),
      ...fitted.writes,
      ...(superseded?.writes ?? []),
      ops.createRequest(request),
    ],
    event: {
      action: input.action === 'adminExtend' ? 'assignment.extended' : 'assignment.updated',
      target: targetOf(request),
      details: { before: current, after: updated },
      publishes: [],
    },
    // The running workflow re-reads the end when it wakes; a new one keeps a newly set start or end.
    effects: async () => [
      ...(superseded?.effects ?? []),
      ...fitted.effects,
      ...(current.endDateTime === null || updated.status === 'Scheduled' || startsNow
        ? startAccessWorkflow(request, updated, ctx.now)
        : []),
      ...(startsNow ? await activatedEffects(ctx.deps, request, updated) : []),
    ],
  };
}

/** The request that set a scheduled start, superseded by the one that moves it: Canceled, its workflow stopped. */
async function supersede(
  ctx: CallContext,
  current: Assignment,
  by: RequestRecord,
): Promise<{ writes: WriteOp[]; effects: Effect[] } | undefined> {
  if (!current.requestId) return undefined;
  const item = await ctx.store.get(keys.request(current.requestId));
  const old = item ? stored.request.fromItem(item) : undefined;
  if (old?.status !== 'Scheduled') return undefined;
  const canceled: RequestRecord = {
    ...transition(old, 'Canceled', ctx.now),
    version: old.version + 1,
    taskToken: null,
  };
  return {
    writes: [
      ops.updateRequest(canceled, old.version),
      ctx.audit('request.superseded', targetOf(old), { supersededBy: by.id }),
    ],
    effects: [{ kind: 'stopWorkflow', name: old.id, cause: `superseded by request ${by.id}` }],
  };
}

async function adminRemove(ctx: CallContext, input: Decided, current: Assignment): Promise<Plan | 'valid'> {
  if (input.validateOnly) return 'valid';
  const { request, step } = await removalPlan(
    ctx.deps,
    ctx.actor,
    ctx.now,
    current,
    input.justification ?? null,
    input.policyScope,
  );
  request.ticket = input.ticket ?? null;
  return {
    request,
    writes: [...step.writes, ops.createRequest(request)],
    event: step.event,
    effects: async () => step.effects,
  };
}

// ---- self actions -------------------------------------------------------------------------------

async function selfActivate(ctx: CallContext, input: Decided, known: Known): Promise<Plan | 'valid'> {
  const { policy } = known.role;
  checkActivationType(input.assignmentType);
  const eligibility = await standingEligibility(
    ctx.deps,
    { principalType: 'user', principalId: ctx.caller.id, roleId: input.roleId, scope: input.scope },
    ctx.now,
    known.slots,
  );
  const fallback: Expiration = { type: 'afterDuration', duration: policy.activation.maxDuration };
  const schedule = resolveSchedule(input.schedule, ctx.now, fallback, policy.maxScheduleAhead);
  checkActivation({ policy, caller: ctx.caller, justification: input.justification, ticket: input.ticket, schedule });
  const slot = {
    principalType: 'user' as const,
    principalId: ctx.caller.id,
    roleId: input.roleId,
    assignmentType: 'active' as const,
    scope: input.scope,
  };
  if (liveIn(known.slots, slot))
    throw new DomainError('AlreadyActive', `role '${input.roleId}' is already active at scope '${input.scope}'`);
  if (await known.pending) {
    throw new DomainError(
      'AlreadyActive',
      `an activation of role '${input.roleId}' at scope '${input.scope}' is already pending`,
    );
  }
  await checkGrantReady(ctx.deps, { ...input, principalId: ctx.caller.id }, known.role.targets);
  if (input.validateOnly) return 'valid';
  const stages = stagesFromPolicy(policy);
  const approval = stages.length ? startStage({ stages }, 0, ctx.now) : { stages: [] };
  const atOnce = stages.length === 0 && schedule.start <= ctx.now;
  const request = newRequestRecord(
    ctx.caller,
    ctx.now,
    input,
    ctx.caller.id,
    schedule,
    input.schedule?.expiration ?? fallback,
    stages.length ? 'PendingApproval' : atOnce ? 'Granted' : 'Scheduled',
    approval,
  );
  request.eligibilityId = eligibility.id;
  // Refused now rather than at the grant when the eligibility ends before the start asked for.
  activationWindow(askedOf(request), eligibility, ctx.now);
  if (atOnce) {
    // No approval and no later start: the access is in force when this transaction commits.
    const assignment = activationOf(request, eligibility, ctx.now);
    const granted: RequestRecord = {
      ...request,
      assignmentId: assignment.id,
      schedule: {
        startDateTime: assignment.startDateTime,
        expiration: { ...request.schedule.expiration, endDateTime: assignment.endDateTime },
      },
    };
    const holds = await provisioned(ctx.deps, granted, assignment, ctx.now, known.role.targets);
    return {
      request: granted,
      writes: [
        ops.pendingFree(slot),
        ops.activationStands(eligibility, assignment),
        ...ops.createAssignment(assignment),
        ...holds,
        ops.createRequest(granted),
      ],
      event: {
        action: 'assignment.activated',
        target: targetOf(granted),
        details: { assignment },
        publishes: [activatedEvent(granted, assignment)],
      },
      effects: async () => [
        granted.status === 'Provisioning'
          ? { kind: 'startWorkflow', name: granted.id, input: provisionInput(granted, assignment, ctx.now) }
          : {
              kind: 'startWorkflow',
              name: granted.id,
              input: workflowInput(granted, 'expiry', ctx.now, assignment.endDateTime),
            },
        ...(await activatedEffects(ctx.deps, granted, assignment, mailFacts(known))),
      ],
      ...(known.admins && { admins: known.admins }),
    };
  }
  return {
    request,
    writes: [ops.slotFree(slot), ops.createPending(slot, request.id), ops.createRequest(request)],
    effects: async () => [
      {
        kind: 'startWorkflow',
        name: request.id,
        input: workflowInput(request, stages.length ? 'approval' : 'start', ctx.now),
      },
      ...(stages.length ? await approvalMail(ctx, request, 0) : []),
    ],
  };
}

async function selfDeactivate(ctx: CallContext, input: Decided, current: Assignment): Promise<Plan | 'valid'> {
  checkDeactivation(current);
  if (input.validateOnly) return 'valid';
  const request = newRequestRecord(
    ctx.caller,
    ctx.now,
    input,
    ctx.caller.id,
    { start: ctx.now, end: ctx.now },
    { type: 'afterDateTime', endDateTime: ctx.now.toISOString() },
    'Revoked',
  );
  request.assignmentId = current.id;
  const end = await endChange(ctx.deps, current, ctx.now, 'Revoked', ctx.actor, 'assignment.deactivated', request);
  return {
    request,
    writes: [...end.writes, ops.createRequest(request)],
    event: end.event,
    effects: async () => end.effects,
  };
}

/**
 * selfExtend / selfRenew act on the slot's live assignment: an activation is extended (extendActivation); an
 * assignment, live or ended, is renewed (renewAssignment). An activation is never renewed.
 */
async function selfExtendOrRenew(
  ctx: CallContext,
  input: Decided,
  policy: RolePolicy,
  slot: ReturnType<typeof slotOf>,
  current: Assignment | undefined,
): Promise<Plan | 'valid'> {
  if (input.action === 'selfExtend' && !current)
    throw notFound(`a live ${slot.assignmentType} assignment of role '${slot.roleId}' at '${slot.scope}' to extend`);
  if (current?.origin !== 'activated') return renewAssignment(ctx, input, policy, slot, current);
  if (input.action === 'selfRenew') {
    throw invalid('an activation is extended, not renewed; activate again once it has ended', [
      { path: 'action', message: 'use selfExtend' },
    ]);
  }
  return extendActivation(ctx, input, policy, slot, current);
}

/**
 * A longer activation (checkExtension: counted against maxExtensions, never beyond its eligibility), approved as
 * activations are: moved at once when the policy needs no approval.
 */
async function extendActivation(
  ctx: CallContext,
  input: Decided,
  policy: RolePolicy,
  slot: ReturnType<typeof slotOf>,
  current: Assignment,
): Promise<Plan | 'valid'> {
  const eligibility = current.eligibilityId ? await readLiveAssignment(ctx, current.eligibilityId) : undefined;
  const requested = input.schedule?.expiration ? resolveExpiration(ctx.now, input.schedule.expiration).end : null;
  const end = checkExtension({
    policy,
    now: ctx.now,
    activation: current,
    eligibility: eligibility ?? null,
    requested,
  });
  checkActivation({
    policy,
    caller: ctx.caller,
    justification: input.justification,
    ticket: input.ticket,
    schedule: { start: ctx.now, end },
  });
  await refuseWhilePending(ctx, slot);
  if (input.validateOnly) return 'valid';
  const stages = stagesFromPolicy(policy);
  const request = longerRequest(ctx, input, current, end, stages);
  if (stages.length) return awaitingApproval(ctx, request, slot);
  const updated: Assignment = {
    ...current,
    endDateTime: end.toISOString(),
    extensions: current.extensions + 1,
    requestId: request.id,
    updatedAt: ctx.now.toISOString(),
    version: current.version + 1,
  };
  return {
    request,
    writes: [
      ...ops.replaceAssignment(updated, current.version),
      ...(eligibility ? [ops.eligibilityStands(eligibility)] : []),
      ops.createRequest(request),
    ],
    event: {
      action: 'assignment.extended',
      target: targetOf(request),
      details: { before: current, after: updated },
      publishes: [],
    },
    effects: async () => [],
  };
}

/** A new end for an assignment held (or held before), asked for by its holder: an administrator approves it. */
async function renewAssignment(
  ctx: CallContext,
  input: Decided,
  policy: RolePolicy,
  slot: ReturnType<typeof slotOf>,
  current: Assignment | undefined,
): Promise<Plan | 'valid'> {
  if (input.action === 'selfRenew' && !current && !(await heldAssigned(ctx, slot))) {
    throw new DomainError(
      'NotEligible',
      `you never held an assignment of role '${slot.roleId}' at '${slot.scope}' to renew; ask an administrator for one`,
    );
  }
  const end = checkRenewal({
    policy,
    assignmentType: slot.assignmentType,
    principalType: current?.principalType ?? input.principalType,
    now: ctx.now,
    expiration: input.schedule?.expiration,
    justification: input.justification,
    currentEnd: current?.endDateTime ?? null,
  });
  await refuseWhilePending(ctx, slot);
  if (input.validateOnly) return 'valid';
  return awaitingApproval(ctx, longerRequest(ctx, input, current, end, [adminApprovalStage()]), slot);
}

/** One request for the slot at a time: a second one waits until the first is decided. */
async function refuseWhilePending(ctx: CallContext, slot: ReturnType<typeof slotOf>): Promise<void> {
  if (await ctx.store.get(keys.pending(slot)))
    throw new DomainError('AlreadyActive', `a request for role '${slot.roleId}' at '${slot.scope}' is already pending`);
}

/** The request of an extension or renewal to `end`: Granted at once without stages, else waiting for them. */
function longerRequest(
  ctx: CallContext,
  input: Decided,
  current: Assignment | undefined,
  end: Date,
  stages: Stage[],
): RequestRecord {
  const expiration: Expiration = { type: 'afterDateTime', endDateTime: end.toISOString() };
  const start = current ? new Date(current.startDateTime) : ctx.now;
  const approval = stages.length ? startStage({ stages }, 0, ctx.now) : { stages: [] };
  const status = stages.length ? 'PendingApproval' : 'Granted';
  const request = newRequestRecord(
    ctx.caller,
    ctx.now,
    input,
    ctx.caller.id,
    { start, end },
    expiration,
    status,
    approval,
  );
  request.assignmentId = current?.id ?? null;
  return request;
}

/** A request that waits for its approvers: it holds the slot's pending marker; its workflow and mail start. */
function awaitingApproval(ctx: CallContext, request: RequestRecord, slot: ReturnType<typeof slotOf>): Plan {
  return {
    request,
    writes: [ops.createPending(slot, request.id), ops.createRequest(request)],
    effects: async () => [
      { kind: 'startWorkflow', name: request.id, input: workflowInput(request, 'approval', ctx.now) },
      ...(await approvalMail(ctx, request, 0)),
    ],
  };
}

/** Did the principal ever hold an assignment (not an activation) in this slot? What selfRenew renews. */
async function heldAssigned(ctx: CallContext, slot: ReturnType<typeof slotOf>): Promise<boolean> {
  const items = await ctx.store.all(queries.assignmentsOfPrincipal(slot), false);
  return items.some(
    (i) =>
      i.roleId === slot.roleId &&
      i.assignmentType === slot.assignmentType &&
      i.scope === slot.scope &&
      i.origin === 'assigned',
  );
}

/** An assignment by id while it is live (Scheduled or Active), else undefined. */
async function readLiveAssignment(ctx: CallContext, id: string): Promise<Assignment | undefined> {
  const item = await ctx.store.get(keys.assignment(id));
  const a = item ? toAssignment(item) : undefined;
  return a && isLive(a) ? a : undefined;
}

/** The mail that asks a stage's approvers for their decision. */
export async function approvalMail(ctx: Pick<CallContext, 'deps'>, r: RequestRecord, stage: number): Promise<Effect[]> {
  const s = r.approval.stages[stage];
  if (!s) return [];
  const role = await requireRole(ctx.deps.store, r.roleId);
  const facts = factsOf(r, role.displayName, await principalName(ctx.deps, r));
  return [
    {
      kind: 'mail',
      to: { approvers: s.approvers },
      mail: mail.approvalNeeded(
        facts,
        ctx.deps.config.apiUrl,
        stage,
        r.approval.stages.length,
        ctx.deps.config.consoleUrl,
      ),
    },
    { kind: 'slack', requestId: r.id },
  ];
}

/**
 * A refused request leaves exactly one trace: its `request.refused` audit event. (A retry with the same
 * Idempotency-Key is judged again: a refusal changes nothing, so judging it twice is safe.)
 */
export async function recordRefusal(ctx: CallContext, input: RequestInput, error: DomainError): Promise<void> {
  await ctx.store.transact([
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
  ]);
}

export { toAssignment };
