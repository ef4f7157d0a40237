import { invalid, notFound } from '../domain/errors.ts';
import { defaultPolicy, policyProblems, type RolePolicy, withDefaults } from '../domain/policy.ts';
import { checkRoleDeletable, type Role, type RoleInput, type RolePatch } from '../domain/role.ts';
import { keys, ops, type PolicyRecord, queries, type RoleRecord, stored, type WriteOp } from '../store/records.ts';
import type { Page, Store } from '../store/store.ts';
import type { CallContext } from './context.ts';

export const toRole = (r: RoleRecord): Role => ({
  id: r.id,
  displayName: r.displayName,
  description: r.description,
  privileged: r.privileged,
  builtIn: r.builtIn,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export async function readRole(store: Store, id: string): Promise<RoleRecord | undefined> {
  const item = await store.get(keys.role(id));
  return item ? stored.role.fromItem(item) : undefined;
}

export async function requireRole(store: Store, id: string): Promise<RoleRecord> {
  const role = await readRole(store, id);
  if (!role) throw notFound(`role '${id}'`);
  return role;
}

export async function readPolicy(store: Store, roleId: string): Promise<PolicyRecord> {
  const item = await store.get(keys.policy(roleId));
  if (!item) throw notFound(`role '${roleId}'`);
  const record = stored.policy.fromItem(item);
  return { ...record, policy: withDefaults(record.policy) };
}

/** The writes that create a role with the default policy (used by the API and by bootstrap). */
export function newRoleOps(input: RoleInput, builtIn: boolean, at: string): { role: RoleRecord; writes: WriteOp[] } {
  const role: RoleRecord = {
    id: input.id,
    displayName: input.displayName,
    description: input.description ?? null,
    privileged: input.privileged,
    builtIn,
    createdAt: at,
    updatedAt: at,
    liveAssignments: 0,
    version: 1,
  };
  const policy: PolicyRecord = { roleId: input.id, policy: defaultPolicy(), version: 1, updatedAt: at };
  return { role, writes: [ops.createRole(role), ops.createPolicy(policy)] };
}

export async function createRole(ctx: CallContext, input: RoleInput): Promise<Role> {
  const { role, writes } = newRoleOps(input, false, ctx.now.toISOString());
  const out = toRole(role);
  await ctx.store.transact([
    ...writes,
    ctx.audit('role.created', { roleId: role.id }, { role: out }),
    ...ctx.remember(out),
  ]);
  return out;
}

export async function listRoles(ctx: CallContext, page: { limit: number; nextToken?: string }): Promise<Page<Role>> {
  return ctx.store.page([queries.roles()], { ...page, map: (item) => toRole(stored.role.fromItem(item)) });
}

export async function getRole(ctx: CallContext, id: string): Promise<Role> {
  return toRole(await requireRole(ctx.store, id));
}

export async function updateRole(ctx: CallContext, id: string, patch: RolePatch): Promise<Role> {
  const before = await requireRole(ctx.store, id);
  const after: RoleRecord = {
    ...before,
    ...(patch.displayName !== undefined ? { displayName: patch.displayName } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    ...(patch.privileged !== undefined ? { privileged: patch.privileged } : {}),
    updatedAt: ctx.now.toISOString(),
    version: before.version + 1,
  };
  const out = toRole(after);
  await ctx.store.transact([
    ops.updateRole(after, before.version),
    ctx.audit('role.updated', { roleId: id }, { before: toRole(before), after: out }),
    ...ctx.remember(out),
  ]);
  return out;
}

export async function deleteRole(ctx: CallContext, id: string): Promise<void> {
  const role = await requireRole(ctx.store, id);
  checkRoleDeletable({ ...role, id });
  await ctx.store.transact([
    ops.deleteRole(id, role.version),
    ops.deletePolicy(id),
    ops.deleteTargets(id),
    ctx.audit('role.deleted', { roleId: id }, { role: toRole(role) }),
  ]);
}

export async function getPolicy(ctx: CallContext, roleId: string): Promise<RolePolicy> {
  return (await readPolicy(ctx.store, roleId)).policy;
}

export async function putPolicy(ctx: CallContext, roleId: string, policy: RolePolicy): Promise<RolePolicy> {
  const problems = policyProblems(policy);
  if (problems.length > 0) throw invalid('the policy is not consistent', problems);
  const current = await readPolicy(ctx.store, roleId);
  const next: PolicyRecord = { roleId, policy, version: current.version + 1, updatedAt: ctx.now.toISOString() };
  await ctx.store.transact([
    ops.replacePolicy(next, current.version),
    ctx.audit('policy.updated', { roleId }, { old: current.policy, new: policy }),
    ...ctx.remember(policy),
  ]);
  return policy;
}
