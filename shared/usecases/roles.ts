import { invalid, notFound } from '../domain/errors.ts';
import { defaultPolicy, policyProblems, type RolePolicy, type ScopedPolicy, withDefaults } from '../domain/policy.ts';
import { needsOrganization, policyScopeInForce, scopedPolicyProblem } from '../domain/policy-scope.ts';
import { checkRoleDeletable, type Role, type RoleInput, type RolePatch } from '../domain/role.ts';
import type { Target } from '../domain/targets.ts';
import {
  type Item,
  keys,
  ops,
  type PolicyRecord,
  queries,
  type RoleRecord,
  type ScopedPolicyRecord,
  stored,
  type WriteOp,
} from '../store/records.ts';
import type { Page, Store } from '../store/store.ts';
import type { CallContext } from './context.ts';
import { organizationAncestors } from './scopes.ts';

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
  return { ...record, policy: policyInForce(record) };
}

/** What a request needs of its role: the role, the policy in force at its scope (and that scope), its targets. */
export interface RoleInForce extends PolicyInForce {
  role: RoleRecord;
  targets: Target[];
}

/**
 * The role, its policy in force at `scope` and its targets in one strongly consistent Query of the role's partition
 * (one round trip where requireRole, resolvePolicy and readTargets make three or more): the partition holds the
 * base policy and the role's policies of other scopes too. The organization is read after it only when the role
 * has a policy at an OU and `scope` names an account or OU (as `resolvePolicy`). NotFound as `requireRole` when
 * the role is not there.
 */
export async function readRoleInForce(store: Store, roleId: string, scope: string): Promise<RoleInForce> {
  let role: RoleRecord | undefined;
  let base: PolicyRecord | undefined;
  let targets: Target[] = [];
  const scoped = new Map<string, RolePolicy>();
  for (const item of await store.all(queries.roleItems(roleId))) {
    if (item.entity === stored.role.name) role = stored.role.fromItem(item);
    else if (item.entity === stored.policy.name) base = stored.policy.fromItem(item);
    else if (item.entity === stored.scopedPolicy.name) {
      const record = stored.scopedPolicy.fromItem(item);
      scoped.set(record.scope, record.policy);
    } else if (item.entity === stored.targets.name) targets = stored.targets.fromItem(item).targets;
  }
  if (!role || !base) throw notFound(`role '${roleId}'`);
  // The scopes listed on the base policy decide, as in resolvePolicy (the base and its scoped policies change
  // together in one transaction; a Query may see one side of it).
  const scopes = base.scopes ?? [];
  if (scopes.length === 0) return { role, scope: '/', policy: policyInForce(base), targets };
  const ancestors = needsOrganization(scopes, scope) ? await organizationAncestors(store, scope) : [];
  const chosen = policyScopeInForce(scopes, scope, ancestors);
  if (chosen === '/') return { role, scope: '/', policy: policyInForce(base), targets };
  const policy = scoped.get(chosen);
  // Listed but not seen: changed meanwhile; the policy is resolved again from its own reads.
  if (!policy) return { role, ...(await resolvePolicy(store, roleId, scope)), targets };
  return { role, scope: chosen, policy: withDefaults(policy), targets };
}

/**
 * What a request's grant needs of its role, in one strongly consistent Query of the role's partition: the role, its
 * targets, and the policy the request was decided under (as `policyOfRequest`: its `policyScope`'s, or when that
 * scope's policy was removed since, the policy in force at the request's scope now).
 */
export async function readRoleOfRequest(
  store: Store,
  r: { roleId: string; scope: string; policyScope?: string | undefined },
): Promise<{ role: RoleRecord; policy: RolePolicy; targets: Target[] }> {
  let role: RoleRecord | undefined;
  let base: PolicyRecord | undefined;
  let targets: Target[] = [];
  const at = r.policyScope ?? '/';
  let scoped: RolePolicy | undefined;
  for (const item of await store.all(queries.roleItems(r.roleId))) {
    if (item.entity === stored.role.name) role = stored.role.fromItem(item);
    else if (item.entity === stored.policy.name) base = stored.policy.fromItem(item);
    else if (item.entity === stored.scopedPolicy.name) {
      const record = stored.scopedPolicy.fromItem(item);
      if (record.scope === at) scoped = record.policy;
    } else if (item.entity === stored.targets.name) targets = stored.targets.fromItem(item).targets;
  }
  if (!role || !base) throw notFound(`role '${r.roleId}'`);
  if (at === '/') return { role, policy: policyInForce(base), targets };
  if (scoped) return { role, policy: withDefaults(scoped), targets };
  return { role, policy: (await resolvePolicy(store, r.roleId, r.scope)).policy, targets };
}

/** The policy a role's requests are held to (its record's, with the defaults of what it leaves out). */
function policyInForce(record: PolicyRecord): RolePolicy {
  return withDefaults(record.policy);
}

async function readScopedPolicy(store: Store, roleId: string, scope: string): Promise<ScopedPolicyRecord | undefined> {
  const item = await store.get(keys.scopedPolicy(roleId, scope));
  if (!item) return undefined;
  const record = stored.scopedPolicy.fromItem(item);
  return { ...record, policy: withDefaults(record.policy) };
}

/** The policy in force and the scope it is of. */
export interface PolicyInForce {
  scope: string;
  policy: RolePolicy;
}

/**
 * The policy in force for a role at `scope`: the role's policy of the most specific scope that covers it
 * (domain/policy-scope.ts). One read for a role without scoped policies; the organization is read only when the
 * role has a policy at an OU and `scope` names an account or OU; the scoped policy chosen, one more read.
 */
export async function resolvePolicy(store: Store, roleId: string, scope: string): Promise<PolicyInForce> {
  const base = await readPolicy(store, roleId);
  const scopes = base.scopes ?? [];
  if (scopes.length === 0) return { scope: '/', policy: base.policy };
  const ancestors = needsOrganization(scopes, scope) ? await organizationAncestors(store, scope) : [];
  const chosen = policyScopeInForce(scopes, scope, ancestors);
  if (chosen === '/') return { scope: '/', policy: base.policy };
  const scoped = await readScopedPolicy(store, roleId, chosen);
  // Listed on the base policy but gone: removed between the two reads; the base read again decides.
  if (!scoped) return resolvePolicy(store, roleId, scope);
  return { scope: chosen, policy: scoped.policy };
}

/**
 * The policy a request was decided under (its `policyScope`), for what follows it (a grant, its mail). When that
 * scope's policy was removed since, the policy in force at the request's scope now.
 */
export async function policyOfRequest(
  store: Store,
  r: { roleId: string; scope: string; policyScope?: string | undefined },
): Promise<RolePolicy> {
  const at = r.policyScope ?? '/';
  if (at === '/') return (await readPolicy(store, r.roleId)).policy;
  const scoped = await readScopedPolicy(store, r.roleId, at);
  return scoped ? scoped.policy : (await resolvePolicy(store, r.roleId, r.scope)).policy;
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
  const base = await readPolicy(ctx.store, id);
  const scoped = await Promise.all((base.scopes ?? []).map((s) => readScopedPolicy(ctx.store, id, s)));
  await ctx.store.transact([
    ops.deleteRole(id, role.version),
    ops.deletePolicy(id, base.version),
    ...scoped.flatMap((p) => (p ? [ops.deleteScopedPolicy(id, p.scope, p.version)] : [])),
    ops.deleteTargets(id),
    ctx.audit('role.deleted', { roleId: id }, { role: toRole(role) }),
  ]);
}

/** GET /v1/roles/{roleId}/policy: the policy in force at `scope` (default `/`, the base policy). */
export async function getPolicy(ctx: CallContext, roleId: string, scope = '/'): Promise<RolePolicy> {
  return (await resolvePolicy(ctx.store, roleId, scope)).policy;
}

const checkPolicy = (policy: RolePolicy): void => {
  const problems = policyProblems(policy);
  if (problems.length > 0) throw invalid('the policy is not consistent', problems);
};

function checkScope(scope: string, op: 'put' | 'delete', existing: readonly string[]): void {
  const problem = scopedPolicyProblem(scope, op, existing);
  if (problem) throw invalid(problem, [{ path: 'scope', message: problem }]);
}

/** The checks of PUT .../policy?scope=S that need no write (a governed proposal runs them first). */
export async function checkPutPolicy(ctx: CallContext, roleId: string, policy: RolePolicy, scope = '/'): Promise<void> {
  checkPolicy(policy);
  checkScope(scope, 'put', (await readPolicy(ctx.store, roleId)).scopes ?? []);
}

/** PUT /v1/roles/{roleId}/policy?scope=S: a whole policy for S and below (S = `/`: the base policy). Audited. */
export async function putPolicy(
  ctx: CallContext,
  roleId: string,
  policy: RolePolicy,
  scope = '/',
): Promise<RolePolicy> {
  checkPolicy(policy);
  const current = await readPolicy(ctx.store, roleId);
  const scopes = current.scopes ?? [];
  checkScope(scope, 'put', scopes);
  const at = ctx.now.toISOString();
  if (scope === '/') {
    const next: PolicyRecord = { ...current, policy, version: current.version + 1, updatedAt: at };
    await ctx.store.transact([
      ops.replacePolicy(next, current.version),
      ctx.audit('policy.updated', { roleId, scope }, { scope, old: current.policy, new: policy }),
      ...ctx.remember(policy),
    ]);
    return policy;
  }
  const before = scopes.includes(scope) ? await readScopedPolicy(ctx.store, roleId, scope) : undefined;
  const record: ScopedPolicyRecord = { roleId, scope, policy, version: (before?.version ?? 0) + 1, updatedAt: at };
  const writes: WriteOp[] = before
    ? [ops.replaceScopedPolicy(record, before.version)]
    : [
        ops.createScopedPolicy(record),
        // The list of scopes moves with it (and the base's version: a concurrent change of either conflicts).
        ops.replacePolicy(
          { ...current, scopes: [...scopes, scope].sort(), version: current.version + 1 },
          current.version,
        ),
      ];
  await ctx.store.transact([
    ...writes,
    ctx.audit(
      before ? 'policy.updated' : 'policy.created',
      { roleId, scope },
      { scope, old: before?.policy ?? null, new: policy },
    ),
    ...ctx.remember(policy),
  ]);
  return policy;
}

/** The checks of DELETE .../policy?scope=S that need no write. */
export async function checkDeletePolicy(ctx: CallContext, roleId: string, scope: string): Promise<ScopedPolicyRecord> {
  checkScope(scope, 'delete', []);
  const current = await readPolicy(ctx.store, roleId);
  const found = (current.scopes ?? []).includes(scope) ? await readScopedPolicy(ctx.store, roleId, scope) : undefined;
  if (!found) throw notFound(`a policy of role '${roleId}' at '${scope}'`);
  return found;
}

/** DELETE /v1/roles/{roleId}/policy?scope=S: S falls back to the policy of the next scope that covers it. Audited. */
export async function deletePolicy(ctx: CallContext, roleId: string, scope: string): Promise<void> {
  const found = await checkDeletePolicy(ctx, roleId, scope);
  const current = await readPolicy(ctx.store, roleId);
  const scopes = (current.scopes ?? []).filter((s) => s !== scope);
  await ctx.store.transact([
    ops.deleteScopedPolicy(roleId, scope, found.version),
    ops.replacePolicy({ ...current, scopes, version: current.version + 1 }, current.version),
    ctx.audit('policy.deleted', { roleId, scope }, { scope, old: found.policy }),
    // An approved change applied by this call is recorded Applied in the same transaction.
    ...ctx.remember(null, 204),
  ]);
}

const presentPolicy = (item: Item): ScopedPolicy => {
  if (item.entity === stored.policy.name) {
    const base = stored.policy.fromItem(item);
    return { scope: '/', policy: withDefaults(base.policy), updatedAt: base.updatedAt };
  }
  const p = stored.scopedPolicy.fromItem(item);
  return { scope: p.scope, policy: withDefaults(p.policy), updatedAt: p.updatedAt };
};

/** GET /v1/roles/{roleId}/policies: the base policy (`/`), then the role's other scopes in scope order. */
export async function listPolicies(
  ctx: CallContext,
  roleId: string,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<ScopedPolicy>> {
  await requireRole(ctx.store, roleId);
  return ctx.store.page([queries.policies(roleId)], { ...page, map: presentPolicy });
}
