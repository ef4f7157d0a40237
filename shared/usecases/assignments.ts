import {
  type AccessAnswer,
  type Assignment,
  type AssignmentStatus,
  asOf,
  effectiveStatus,
  inForce,
  isLive,
} from '../domain/assignment.ts';
import { forbidden, notFound } from '../domain/errors.ts';
import { type PrincipalRef, PrincipalType, userRef } from '../domain/primitives.ts';
import { type ProvisioningStatus, presentProvisioning } from '../domain/provisioning.ts';
import { guardsOf, type Item, keys, type QueryPart, queries, type Slot, stored } from '../store/records.ts';
import type { Page, Store } from '../store/store.ts';
import type { CallContext } from './context.ts';
import { memberships } from './groups.ts';
import { coveringInOrganization } from './scopes.ts';

/** A principal's live assignment in one slot (principal, role, type, scope), strongly consistent. */
export async function readLive(store: Store, slot: Slot): Promise<Assignment | undefined> {
  const item = await store.get(keys.live(slot));
  return item ? fromLiveSlot(item) : undefined;
}

/**
 * When each eligibility was last activated (by id; absent: never): the later of what its live slot holds (each
 * activation records itself there since issue 18) and the `LASTUSE` item activations wrote before. Strongly
 * consistent, one BatchGetItem per 50 eligibilities.
 */
export async function lastActivations(
  store: Store,
  eligibilities: readonly Assignment[],
): Promise<Map<string, string>> {
  const found = await store.getMany(eligibilities.flatMap((a) => [keys.lastUse(a.id), keys.live(a)]));
  const last = new Map<string, string>();
  const seen = (id: string, at: string) => {
    if (at > (last.get(id) ?? '')) last.set(id, at);
  };
  for (const item of found) {
    if (item.entity === stored.lastUse.name) {
      const use = stored.lastUse.fromItem(item);
      seen(use.eligibilityId, use.at);
    } else {
      const use = guardsOf(item).lastUse;
      if (use) seen(String(item.id), use.at);
    }
  }
  return last;
}

/** The assignment an assignment item holds. */
export const toAssignment = (item: Item): Assignment => stored.assignment.fromItem(item);
/** The assignment a live slot holds (its copy, written in the same transaction). */
export const fromLiveSlot = (item: Item): Assignment => stored.live.fromItem(item);

/** What the API shows of an assignment: the record as of now, without its version counter. */
export function present(a: Assignment, now: Date) {
  const { version: _version, provisioning, ...rest } = asOf(a, now);
  return { ...rest, provisioning: presentProvisioning(provisioning) };
}
export type AssignmentView = ReturnType<typeof present>;

export interface AssignmentFilters {
  principalId?: string | undefined;
  /** With principalId: only that type's assignments (none: every type's, each under its own key). */
  principalType?: PrincipalType | undefined;
  roleId?: string | undefined;
  assignmentType?: 'eligible' | 'active' | undefined;
  status?: AssignmentStatus | undefined;
  privileged?: boolean | undefined;
}

/** Stored statuses that can be a given status as of now (the stored status may lag behind the clock). */
const STORED_FOR: Record<AssignmentStatus, AssignmentStatus[]> = {
  Active: ['Active', 'Scheduled'],
  Scheduled: ['Scheduled'],
  Expired: ['Expired', 'Active', 'Scheduled'],
  Revoked: ['Revoked'],
};

export async function listAssignments(
  ctx: CallContext,
  filters: AssignmentFilters,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<AssignmentView>> {
  let parts: QueryPart[];
  if (filters.principalId) parts = principalParts(filters, queries.assignmentsOfPrincipal);
  else if (filters.roleId) parts = [queries.assignmentsOfRole(filters.roleId)];
  else if (filters.privileged) {
    const roles = await ctx.store.all(queries.roles(), false);
    parts = roles
      .map((r) => stored.role.fromItem(r))
      .filter((r) => r.privileged)
      .map((r) => queries.assignmentsOfRole(r.id));
  } else {
    const statuses = filters.status
      ? STORED_FOR[filters.status]
      : (['Active', 'Scheduled', 'Expired', 'Revoked'] as const);
    parts = statuses.map((s) => queries.assignmentsByStatus(s));
  }
  let privilegedRoles: Set<string> | undefined;
  if (filters.privileged && (filters.principalId || filters.roleId)) {
    const roles = await ctx.store.all(queries.roles(), false);
    privilegedRoles = new Set(
      roles
        .map((r) => stored.role.fromItem(r))
        .filter((r) => r.privileged)
        .map((r) => r.id),
    );
  }
  const now = ctx.now;
  return ctx.store.page(parts, {
    ...page,
    filter: (item) => {
      const a = stored.assignment.fromItem(item);
      return (
        (!filters.principalId || a.principalId === filters.principalId) &&
        (!filters.principalType || a.principalType === filters.principalType) &&
        (!filters.roleId || a.roleId === filters.roleId) &&
        (!filters.assignmentType || a.assignmentType === filters.assignmentType) &&
        (!filters.status || effectiveStatus(a, now) === filters.status) &&
        (!privilegedRoles || privilegedRoles.has(a.roleId))
      );
    },
    map: (item) => present(toAssignment(item), now),
  });
}

/** The partitions of one principal id: of its type, or of every type (users, groups and service principals). */
export function principalParts(
  filters: { principalId?: string | undefined; principalType?: PrincipalType | undefined },
  part: (p: PrincipalRef) => QueryPart,
): QueryPart[] {
  const types = filters.principalType ? [filters.principalType] : PrincipalType.options;
  return types.map((principalType) => part({ principalType, principalId: filters.principalId as string }));
}

/** Is this the caller's own (a user's, of the caller's id)? A group or service principal of that id is not. */
export const isCallers = (ctx: CallContext, p: PrincipalRef): boolean =>
  p.principalType === 'user' && p.principalId === ctx.caller.id;

export async function getAssignment(ctx: CallContext, id: string): Promise<AssignmentView> {
  const item = await ctx.store.get(keys.assignment(id));
  const a = item ? toAssignment(item) : undefined;
  // Someone else's assignment is "not found" to a plain user: ids are not an oracle.
  if (!a || (!isCallers(ctx, a) && !(await ctx.isReader()))) throw notFound(`assignment '${id}'`);
  return present(a, ctx.now);
}

/** "My roles": the caller's eligible and active (or scheduled) assignments, from its live slots. */
export async function listMyAssignments(ctx: CallContext): Promise<Page<AssignmentView>> {
  const live = await ctx.store.all(queries.live(userRef(ctx.caller.id)));
  const items = live
    .map(fromLiveSlot)
    .filter((a) => isLive({ status: effectiveStatus(a, ctx.now) }))
    .map((a) => present(a, ctx.now));
  return { items, nextToken: null };
}

const NO: AccessAnswer = { allowed: false, assignmentId: null, expiresAt: null, viaGroup: null, provisioning: null };
/** Where the answering assignment stands in AWS (NotRequired: nothing is provisioned for it). */
const provisioningOf = (a: Assignment): ProvisioningStatus => a.provisioning?.status ?? 'NotRequired';

/**
 * Does `principalId` hold `roleId` at `scope` right now? One strongly consistent Query of the principal's live
 * active slots of that role answers when it holds the role directly. Otherwise, one Query of its group
 * memberships, then one per group it belongs to (in parallel). The longest-lasting covering assignment answers.
 */
export async function checkAccess(
  ctx: CallContext,
  q: { principalId?: string | undefined; principalType?: PrincipalType | undefined; roleId: string; scope: string },
): Promise<AccessAnswer> {
  // The principal asked about is a user unless the query names another type: a group's id is not a user's.
  const principal: PrincipalRef = {
    principalType: q.principalType ?? 'user',
    principalId: q.principalId ?? ctx.caller.id,
  };
  if (!isCallers(ctx, principal) && !(await ctx.isReader())) {
    throw forbidden("checking another principal's access needs elevate-admin or elevate-auditor");
  }
  const own = await ctx.store.all(queries.live(principal, q.roleId, 'active'));
  const direct = bestOf(await coveringInOrganization(ctx.store, own.map(fromLiveSlot), q.scope), ctx.now);
  if (direct) {
    return {
      allowed: true,
      assignmentId: direct.id,
      expiresAt: direct.endDateTime,
      viaGroup: null,
      provisioning: provisioningOf(direct),
    };
  }
  const groups = await memberships(ctx.store, principal, ctx.now);
  const held = await Promise.all(
    [...groups.members].map(async ([groupId, membershipEnd]) => {
      const a = bestOf(
        await coveringInOrganization(
          ctx.store,
          (await ctx.store.all(queries.live({ principalType: 'group', principalId: groupId }, q.roleId, 'active'))).map(
            fromLiveSlot,
          ),
          q.scope,
        ),
        ctx.now,
      );
      return a ? { groupId, a, end: earlier(a.endDateTime, membershipEnd) } : undefined;
    }),
  );
  let best: { groupId: string; a: Assignment; end: string | null } | undefined;
  for (const h of held) if (h && (!best || lasts(h.end, best.end))) best = h;
  return best
    ? {
        allowed: true,
        assignmentId: best.a.id,
        expiresAt: best.end,
        viaGroup: best.groupId,
        provisioning: provisioningOf(best.a),
      }
    : NO;
}

/** Of assignments that cover the scope asked about, the one in force that lasts longest. */
function bestOf(assignments: Assignment[], now: Date): Assignment | undefined {
  let best: Assignment | undefined;
  for (const a of assignments) {
    if (!inForce(a, now)) continue;
    if (!best || lasts(a.endDateTime, best.endDateTime)) best = a;
  }
  return best;
}

/** null is permanent: it outlasts any time, and any time ends earlier. */
const lasts = (a: string | null, b: string | null): boolean => b !== null && (a === null || a > b);
const earlier = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null ? a : a < b ? a : b;
