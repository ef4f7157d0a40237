import type { Deps } from '../deps.ts';
import { type AuditTarget, SYSTEM_ACTOR } from '../domain/audit.ts';
import { conflict, DomainError, notFound } from '../domain/errors.ts';
import { type GovernedOperation, isGovernedOperation } from '../domain/gate.ts';
import {
  type Change,
  type ChangeCall,
  type ChangeStatus,
  changeExpiry,
  checkChangeDecision,
  effectiveChangeStatus,
  governedChange,
  Settings,
} from '../domain/governance.ts';
import { RolePolicy } from '../domain/policy.ts';
import { RequestInput } from '../domain/request.ts';
import { RolePatch } from '../domain/role.ts';
import { Scope } from '../domain/scope.ts';
import { Targets } from '../domain/targets.ts';
import { newId } from '../ids.ts';
import { type ChangeRecord, keys, ops, queries, stored, type WriteOp } from '../store/records.ts';
import type { Page } from '../store/store.ts';
import { auditEvent, CallContext } from './context.ts';
import { checkTargetsExist } from './provisioning.ts';
import { createRequest, recordRefusal } from './requests.ts';
import {
  checkDeletePolicy,
  checkPutPolicy,
  deletePolicy,
  putPolicy,
  readRole,
  requireRole,
  updateRole,
} from './roles.ts';
import { readSettings } from './settings.ts';
import { putTargets } from './targets.ts';

/**
 * Governance (api.md): the settings, and the pending changes of `requireSecondAdmin`. A governed call is checked as
 * the original call would be (nothing pending for a call that would be refused), kept with its proposer's sign-in,
 * and applied on a second administrator's approval by the very use case the original call runs, whose main
 * transaction also records the change as Applied (so a change is applied once, or not at all).
 */

// ---- settings ---------------------------------------------------------------------------------------

export async function getSettings(ctx: CallContext): Promise<Settings> {
  return (await readSettings(ctx.store)).settings;
}

export async function putSettings(ctx: CallContext, settings: Settings): Promise<Settings> {
  const current = await readSettings(ctx.store);
  await ctx.store.transact([
    ops.putSettings(
      {
        settings,
        version: (current.version ?? 0) + 1,
        updatedAt: ctx.now.toISOString(),
        updatedBy: ctx.caller.id,
      },
      current.version,
    ),
    ctx.audit('settings.updated', {}, { old: current.settings, new: settings }),
    ...ctx.remember(settings),
  ]);
  return settings;
}

// ---- the governed operations ------------------------------------------------------------------------

interface Governed {
  /** The original call's checks, writing nothing (a proposal the call would refuse is refused now). */
  check(ctx: CallContext, call: ChangeCall): Promise<void>;
  /** The original call, as its use case runs it. */
  apply(ctx: CallContext, call: ChangeCall): Promise<{ status: number; body: unknown }>;
}

const roleIdOf = (call: ChangeCall): string => call.params.roleId ?? '';
/** A policy call's scope, checked as the original call's query was (absent: `/`). */
const scopeOf = (call: ChangeCall): string => Scope.parse(call.query?.scope ?? '/');

const GOVERNED: Record<GovernedOperation, Governed> = {
  putSettings: {
    check: async () => {},
    apply: async (ctx, call) => ({ status: 200, body: await putSettings(ctx, Settings.parse(call.body)) }),
  },
  putPolicy: {
    check: async (ctx, call) => checkPutPolicy(ctx, roleIdOf(call), RolePolicy.parse(call.body), scopeOf(call)),
    apply: async (ctx, call) => ({
      status: 200,
      body: await putPolicy(ctx, roleIdOf(call), RolePolicy.parse(call.body), scopeOf(call)),
    }),
  },
  deletePolicy: {
    check: async (ctx, call) => {
      await checkDeletePolicy(ctx, roleIdOf(call), scopeOf(call));
    },
    apply: async (ctx, call) => {
      await deletePolicy(ctx, roleIdOf(call), scopeOf(call));
      return { status: 204, body: undefined };
    },
  },
  putTargets: {
    check: async (ctx, call) => {
      await requireRole(ctx.store, roleIdOf(call));
      await checkTargetsExist(ctx.deps, Targets.parse(call.body).targets);
    },
    apply: async (ctx, call) => ({
      status: 200,
      body: await putTargets(ctx, roleIdOf(call), Targets.parse(call.body)),
    }),
  },
  updateRole: {
    check: async (ctx, call) => {
      await requireRole(ctx.store, roleIdOf(call));
    },
    apply: async (ctx, call) => ({
      status: 200,
      body: await updateRole(ctx, roleIdOf(call), RolePatch.parse(call.body)),
    }),
  },
  createRequest: {
    check: async (ctx, call) => {
      const input = RequestInput.parse(call.body);
      try {
        await createRequest(ctx, { ...input, validateOnly: true });
      } catch (error) {
        // A validateOnly call leaves no trace; a refused proposal does, as the refused request it is.
        if (error instanceof DomainError && error.code !== 'ValidationFailed') await recordRefusal(ctx, input, error);
        throw error;
      }
    },
    apply: async (ctx, call) => {
      const outcome = await createRequest(ctx, RequestInput.parse(call.body));
      if (outcome.kind !== 'created') throw new Error('an applied change cannot be a validateOnly request');
      return { status: outcome.status, body: outcome.request };
    },
  },
};

function targetOf(call: ChangeCall): Partial<AuditTarget> {
  const body = (call.body ?? {}) as Record<string, unknown>;
  if (call.operationId === 'createRequest') {
    return {
      principalId: typeof body.principalId === 'string' ? body.principalId : null,
      roleId: typeof body.roleId === 'string' ? body.roleId : null,
      scope: typeof body.scope === 'string' ? body.scope : '/',
    };
  }
  if (!call.params.roleId) return {};
  return call.query?.scope ? { roleId: call.params.roleId, scope: call.query.scope } : { roleId: call.params.roleId };
}

export const presentChange = (c: ChangeRecord, now: Date): Change => {
  const { proposer: _p, version: _v, ...rest } = c;
  return { ...rest, status: effectiveChangeStatus(c, now) };
};

/**
 * The wrapper's question before a governed call runs: is it held for a second administrator? If so, the call is
 * checked as it would run, kept as a pending change (audited `change.proposed`), and that change is the answer (202).
 */
export async function proposeIfGoverned(ctx: CallContext, call: ChangeCall): Promise<Change | null> {
  if (ctx.change || !isGovernedOperation(call.operationId)) return null;
  // The call's own shape first (no read for a selfActivate), then the role, then the settings.
  if (!governedChange(call, { requireSecondAdmin: true, rolePrivileged: true })) return null;
  const rolePrivileged =
    call.operationId === 'putPolicy' ||
    call.operationId === 'deletePolicy' ||
    call.operationId === 'putTargets' ||
    call.operationId === 'updateRole'
      ? (await readRole(ctx.store, roleIdOf(call)))?.privileged
      : undefined;
  const settings = await ctx.settings();
  const governed = governedChange(call, { requireSecondAdmin: settings.governance.requireSecondAdmin, rolePrivileged });
  if (!governed) return null;
  await GOVERNED[call.operationId].check(ctx, call);
  const record: ChangeRecord = {
    id: newId('chg', ctx.now),
    kind: governed.kind,
    summary: governed.summary,
    proposedBy: ctx.caller.id,
    proposedAt: ctx.now.toISOString(),
    expiresAt: changeExpiry(ctx.now).toISOString(),
    status: 'Pending',
    request: call,
    decidedBy: null,
    decidedAt: null,
    justification: null,
    result: null,
    proposer: ctx.caller,
    version: 1,
  };
  const shown = presentChange(record, ctx.now);
  await ctx.store.transact([
    ops.createChange(record),
    ctx.audit('change.proposed', targetOf(call), { changeId: record.id, kind: record.kind, summary: record.summary }),
    ...ctx.remember(shown, 202),
  ]);
  return shown;
}

// ---- reading and deciding ---------------------------------------------------------------------------

async function readChange(ctx: CallContext, id: string): Promise<ChangeRecord> {
  const item = await ctx.store.get(keys.change(id));
  if (!item) throw notFound(`change '${id}'`);
  return stored.change.fromItem(item);
}

export async function getChange(ctx: CallContext, id: string): Promise<Change> {
  return presentChange(await readChange(ctx, id), ctx.now);
}

export async function listChanges(
  ctx: CallContext,
  status: ChangeStatus | undefined,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<Change>> {
  return ctx.store.page([queries.changes()], {
    ...page,
    filter: (item) => !status || effectiveChangeStatus(stored.change.fromItem(item), ctx.now) === status,
    map: (item) => presentChange(stored.change.fromItem(item), ctx.now),
  });
}

/** The writes that end a pending change (Rejected or Expired), with its audit event. */
function closeWrites(
  c: ChangeRecord,
  status: 'Rejected' | 'Expired',
  decidedBy: string | null,
  justification: string | null,
  audit: (action: string, target: Partial<AuditTarget>, details: Record<string, unknown>) => WriteOp,
  now: Date,
): { closed: ChangeRecord; writes: WriteOp[] } {
  const closed: ChangeRecord = {
    ...c,
    status,
    decidedBy,
    decidedAt: now.toISOString(),
    justification,
    version: c.version + 1,
  };
  return {
    closed,
    writes: [
      ops.updateChange(closed, c.version),
      audit(`change.${status.toLowerCase()}`, targetOf(c.request), {
        changeId: c.id,
        kind: c.kind,
        summary: c.summary,
        proposedBy: c.proposedBy,
        ...(justification ? { justification } : {}),
      }),
    ],
  };
}

const systemAudit = (now: Date) => (action: string, target: Partial<AuditTarget>, details: Record<string, unknown>) =>
  ops.audit(auditEvent(now, SYSTEM_ACTOR, action, target, details));

/**
 * POST /v1/changes/{id}/approve|reject, by an administrator who did not propose it (the wrapper has checked the
 * caller's authority and MFA). Approval runs the original call as its proposer's, who must still be an
 * administrator; a refusal of that call leaves the change pending (to be rejected, or to expire).
 */
export async function decideChange(
  ctx: CallContext,
  id: string,
  decision: 'approve' | 'reject',
  justification: string | undefined,
): Promise<Change> {
  const c = await readChange(ctx, id);
  try {
    checkChangeDecision(c, ctx.caller.id, ctx.now);
  } catch (error) {
    if (error instanceof DomainError && error.status === 403) {
      await ctx.store.transact([
        ctx.audit('authorization.refused', targetOf(c.request), {
          operationId: decision === 'approve' ? 'approveChange' : 'rejectChange',
          code: error.code,
          changeId: c.id,
        }),
      ]);
    }
    if (c.status === 'Pending' && effectiveChangeStatus(c, ctx.now) === 'Expired') await expireOne(ctx.deps, c);
    throw error;
  }
  if (decision === 'reject') {
    const { closed, writes } = closeWrites(
      c,
      'Rejected',
      ctx.caller.id,
      justification ?? null,
      (a, t, d) => ctx.audit(a, t, d),
      ctx.now,
    );
    await ctx.store.transact(writes);
    return presentChange(closed, ctx.now);
  }
  const proposer = new CallContext(ctx.deps, c.proposer, undefined, ctx.log);
  if (!(await proposer.authority()).admin) {
    throw conflict(`'${c.proposedBy}' who proposed this change no longer holds elevate-admin; reject it`);
  }
  let applied: ChangeRecord | undefined;
  proposer.change = {
    id: c.id,
    approvedBy: ctx.caller.id,
    committed: false,
    applied: (result) => {
      applied = {
        ...c,
        status: 'Applied',
        decidedBy: ctx.caller.id,
        decidedAt: ctx.now.toISOString(),
        justification: justification ?? null,
        result,
        version: c.version + 1,
      };
      return [
        ops.updateChange(applied, c.version),
        ctx.audit('change.applied', targetOf(c.request), {
          changeId: c.id,
          kind: c.kind,
          summary: c.summary,
          proposedBy: c.proposedBy,
          ...(justification ? { justification } : {}),
        }),
      ];
    },
  };
  const operation = c.request.operationId;
  if (!isGovernedOperation(operation)) throw new Error(`change ${c.id} holds an operation that is not governed`);
  await GOVERNED[operation].apply(proposer, c.request);
  if (!proposer.change.committed || !applied) {
    throw new Error(`change ${c.id}: its operation committed without recording the change`);
  }
  return presentChange(applied, ctx.now);
}

async function expireOne(deps: Deps, c: ChangeRecord): Promise<boolean> {
  const now = deps.clock.now();
  const { writes } = closeWrites(c, 'Expired', null, null, systemAudit(now), now);
  try {
    await deps.store.transact(writes);
    return true;
  } catch (error) {
    if (error instanceof DomainError) return false; // decided or expired meanwhile
    throw error;
  }
}

/** The reconcile job: pending changes past their 7 days become Expired (audited `change.expired`). */
export async function expireChanges(deps: Deps): Promise<number> {
  const now = deps.clock.now();
  let expired = 0;
  for await (const item of deps.store.stream(queries.changesExpiringBefore('Pending', now.toISOString()))) {
    const c = stored.change.fromItem(item);
    if (effectiveChangeStatus(c, now) === 'Expired' && (await expireOne(deps, c))) expired++;
  }
  return expired;
}
