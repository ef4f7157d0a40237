import { inForce } from '../domain/assignment.ts';
import { forbidden, notFound } from '../domain/errors.ts';
import { type GroupInput, groupOfRole, memberRole, ownerRole } from '../domain/group.ts';
import { type PrincipalRef, userRef } from '../domain/primitives.ts';
import { type GroupRecord, keys, ops, queries, stored } from '../store/records.ts';
import type { Page, Store } from '../store/store.ts';
import { fromLiveSlot, present, toAssignment } from './assignments.ts';
import type { CallContext } from './context.ts';

/** POST /v1/groups: the group and its two roles (with default policies), in one transaction. */
export async function createGroup(ctx: CallContext, input: GroupInput): Promise<GroupRecord> {
  // The role use cases (policies and their schemas) load on first use: the access check and the listings, which
  // import this module for memberships, never need them (bench/README.md, cold init).
  const { newRoleOps } = await import('./roles.ts');
  const at = ctx.now.toISOString();
  const group: GroupRecord = {
    id: input.id,
    displayName: input.displayName,
    description: input.description ?? null,
    createdAt: at,
  };
  const member = newRoleOps(
    {
      id: memberRole(input.id),
      displayName: `${input.displayName}: member`,
      description: `Membership of the group ${input.id}`,
      privileged: false,
    },
    false,
    at,
  );
  const owner = newRoleOps(
    {
      id: ownerRole(input.id),
      displayName: `${input.displayName}: owner`,
      description: `Ownership of the group ${input.id}`,
      privileged: false,
    },
    false,
    at,
  );
  await ctx.store.transact([
    ops.createGroup(group),
    ...member.writes,
    ...owner.writes,
    ctx.audit('group.created', { principalId: input.id }, { group, roles: [member.role.id, owner.role.id] }),
    ...ctx.remember(group),
  ]);
  return group;
}

export async function listGroups(
  ctx: CallContext,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<GroupRecord>> {
  return ctx.store.page([queries.groups()], { ...page, map: (item) => stored.group.fromItem(item) });
}

/** GET /v1/groups/{id}/members: active members and owners now, with their end times. */
export async function listMembers(
  ctx: CallContext,
  groupId: string,
  page: { limit: number; nextToken?: string | undefined },
) {
  if (!(await ctx.store.get(keys.group(groupId), false))) throw notFound(`group '${groupId}'`);
  if (!(await ctx.isReader())) {
    const mine = await memberships(ctx.store, userRef(ctx.caller.id), ctx.now);
    if (!mine.members.has(groupId) && !mine.owners.has(groupId)) {
      throw forbidden("a group's members are shown to its members and owners, and to admins and auditors");
    }
  }
  return ctx.store.page(
    [queries.assignmentsOfRole(memberRole(groupId)), queries.assignmentsOfRole(ownerRole(groupId))],
    {
      ...page,
      filter: (item) => item.assignmentType === 'active' && inForce(stored.assignment.fromItem(item), ctx.now),
      map: (item) => {
        const a = toAssignment(item);
        return { ...present(a, ctx.now), relation: groupOfRole(a.roleId)?.relation ?? 'member' };
      },
    },
  );
}

/**
 * The Elevate groups a principal is an active member (or owner) of now, with when that ends, from its
 * live slots of the group roles: one strongly consistent Query.
 */
export async function memberships(
  store: Store,
  principal: PrincipalRef,
  now: Date,
): Promise<{ members: Map<string, string | null>; owners: Map<string, string | null> }> {
  const slots = await store.all(queries.liveRolePrefix(principal, 'group-'));
  const members = new Map<string, string | null>();
  const owners = new Map<string, string | null>();
  for (const item of slots) {
    const a = fromLiveSlot(item);
    const g = groupOfRole(a.roleId);
    if (!g || a.assignmentType !== 'active' || !inForce(a, now)) continue;
    (g.relation === 'member' ? members : owners).set(g.groupId, a.endDateTime);
  }
  return { members, owners };
}
