/**
 * The planner of `elevate plan` / `apply`: a pure function of the live state (as read through the API) and the
 * desired state (the file, resolved) to the ordered changes that make one the other, and the effective access they
 * make: each (principal, role, scope) that gains or loses eligibility, or whose terms change, with the approval
 * chain and limits in force there, decided by the server's own rule (policyScopeInForce, shared/domain/policy-scope.ts).
 * The order and the wording are deterministic: a reviewer reads the plan in a pull request.
 */
import { createHash } from 'node:crypto';
import type { AlertSettings } from '#shared/domain/alerts.ts';
import type { Change as PendingChange } from '#shared/domain/governance.ts';
import { groupOfRole } from '#shared/domain/group.ts';
import { defaultPolicy, type RolePolicy } from '#shared/domain/policy.ts';
import { policyScopeInForce } from '#shared/domain/policy-scope.ts';
import type { PrincipalType } from '#shared/domain/primitives.ts';
import type { Review, ReviewInput } from '#shared/domain/review.ts';
import { organizationNodeOf, type ScopeItem } from '#shared/domain/scope.ts';
import type { Target } from '#shared/domain/targets.ts';
import { canonical, type Desired, type DesiredEligibility, MANAGED_MARK, sortTargets } from './format.ts';

/** An eligibility's justification when the file manages it. */
export const MANAGED_JUSTIFICATION = `Managed by policy as code ${MANAGED_MARK}`;

export const isManagedText = (text: string | null | undefined): boolean => (text ?? '').endsWith(MANAGED_MARK);
/** A description without the mark (null when nothing is left). */
export const unmarked = (text: string | null | undefined): string | null => {
  const t = (text ?? '').endsWith(MANAGED_MARK) ? (text ?? '').slice(0, -MANAGED_MARK.length).trimEnd() : (text ?? '');
  return t === '' ? null : t;
};
export const marked = (description: string | null): string =>
  description ? `${description} ${MANAGED_MARK}` : MANAGED_MARK;

export interface LiveRole {
  id: string;
  displayName: string;
  description: string | null;
  privileged: boolean;
  builtIn: boolean;
  targets: Target[];
  policies: { scope: string; policy: RolePolicy }[];
}

export interface LiveEligibility {
  id: string;
  principalType: PrincipalType;
  principalId: string;
  roleId: string;
  scope: string;
  endDateTime: string | null;
  justification: string | null;
}

export interface LiveState {
  roles: LiveRole[];
  groups: { id: string; displayName: string; description: string | null }[];
  /** Live (Scheduled or Active) eligible assignments made by an administrator. */
  eligibility: LiveEligibility[];
  reviews: Review[];
  alertSettings: AlertSettings;
  /** The organization as GET /v1/scopes shows it (the ancestors of accounts and OUs). */
  organization: ScopeItem[];
  /** Pending changes (governance.requireSecondAdmin): a change already proposed is not proposed again. */
  pending: PendingChange[];
}

export interface Call {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface PlannedChange {
  /** Stable: `policy:update:db-admin:/ous/ou-x` (with the file's digest, the Idempotency-Key). */
  id: string;
  action: 'create' | 'update' | 'delete';
  kind: 'group' | 'role' | 'targets' | 'policy' | 'eligibility' | 'accessReview' | 'alertSettings';
  /** `role db-admin`, `policy db-admin at /ous/ou-prod`. */
  subject: string;
  fields: FieldChange[];
  call: Call;
  /** The id of the pending change that already proposes this call (it is not proposed again). */
  pendingChange?: string;
}

export interface AccessTerms {
  /** The scope whose policy is in force there. */
  policyScope: string;
  approval: string;
  limits: string;
}

export interface AccessChange {
  effect: 'gains' | 'loses' | 'changes';
  principal: string;
  roleId: string;
  scope: string;
  /** For gains and changes: the terms after; for loses: the terms before. */
  terms: AccessTerms;
  /** For changes: the terms before. */
  before?: AccessTerms;
}

export interface Plan {
  changes: PlannedChange[];
  access: AccessChange[];
  /** Managed resources missing from the file, kept because --prune was not given. */
  kept: string[];
  /** What the file asks that the API cannot do (said, never silently dropped). */
  warnings: string[];
}

const KIND_ORDER: PlannedChange['kind'][] = [
  'group',
  'role',
  'targets',
  'policy',
  'eligibility',
  'accessReview',
  'alertSettings',
];

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const enc = encodeURIComponent;

/** Every differing leaf of two values, by dotted path (arrays compared whole). */
export function fieldChanges(from: unknown, to: unknown, prefix = ''): FieldChange[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(from) && isObj(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort(byText);
    return keys.flatMap((k) => fieldChanges(from[k], to[k], prefix ? `${prefix}.${k}` : k));
  }
  return canonical(from) === canonical(to) ? [] : [{ field: prefix, from, to }];
}

const principalText = (type: string, id: string) => `${type}:${id}`;
/** A short digest of a value, for change ids. */
const digestOf = (value: unknown) => createHash('sha256').update(canonical(value)).digest('hex').slice(0, 12);

function expirationBody(expiration: string): unknown {
  if (expiration === 'never') return { type: 'noExpiration' };
  if (expiration.startsWith('P')) return { type: 'afterDuration', duration: expiration };
  return { type: 'afterDateTime', endDateTime: expiration };
}

/** Does a live eligibility's end satisfy the file's expiration? A duration counts from the assignment: any end. */
function expirationHolds(expiration: string, end: string | null): boolean {
  if (expiration === 'never') return end === null;
  if (expiration.startsWith('P')) return end !== null;
  return end !== null && Date.parse(end) === Date.parse(expiration);
}

const slotKey = (e: { principalType: string; principalId: string; roleId: string; scope: string }) =>
  `${e.principalType}:${e.principalId} ${e.roleId} ${e.scope}`;

/** The ids of the root and OUs above the account or OU a scope names, root first (policy-scope.ts). */
export function ancestorsOf(scope: string, organization: readonly ScopeItem[]): string[] {
  const node = organizationNodeOf(scope);
  if (!node) return [];
  const byScope = new Map(organization.map((s) => [s.scope, s]));
  const own = `/${node.type === 'account' ? 'accounts' : 'ous'}/${node.id}`;
  const out: string[] = [];
  let parent = byScope.get(own)?.parentScope ?? null;
  for (let guard = 0; parent && guard < 64; guard++) {
    const p = byScope.get(parent);
    if (!p) break;
    out.unshift(p.id);
    parent = p.parentScope;
  }
  return out;
}

/** The policy in force for a role at a scope, among `policies` (by scope, `/` included). */
export function policyAt(
  policies: ReadonlyMap<string, RolePolicy>,
  scope: string,
  organization: readonly ScopeItem[],
): { scope: string; policy: RolePolicy } {
  const withPolicy = [...policies.keys()].filter((s) => s !== '/');
  const chosen = policyScopeInForce(withPolicy, scope, ancestorsOf(scope, organization));
  return { scope: chosen, policy: policies.get(chosen) ?? policies.get('/') ?? defaultPolicy() };
}

/** The approval chain and limits of a policy, in words. */
export function termsOf(at: { scope: string; policy: RolePolicy }): AccessTerms {
  const { activation } = at.policy;
  const approval =
    !activation.approval.required || activation.approval.stages.length === 0
      ? 'no approval'
      : activation.approval.stages
          .map(
            (s, i) =>
              `stage ${i + 1}: ${s.requiredApprovals} of ${s.approvers
                .map((a) => `${a.type}:${a.id}`)
                .join(', ')} within ${s.timeout}`,
          )
          .join('; ');
  const needs = [
    activation.requireMfa && 'MFA',
    activation.requireJustification && 'justification',
    activation.requireTicket && 'ticket',
    activation.authenticationContext && `authentication context ${activation.authenticationContext}`,
  ].filter(Boolean);
  const limits = `activation up to ${activation.maxDuration}, ${activation.maxExtensions} extension(s)${
    needs.length ? `, needs ${needs.join(', ')}` : ''
  }`;
  return { policyScope: at.scope, approval, limits };
}

const livePolicies = (role: LiveRole | undefined): Map<string, RolePolicy> =>
  new Map(role ? role.policies.map((p) => [p.scope, p.policy]) : [['/', defaultPolicy()]]);

function sameCall(call: Call, pending: PendingChange): boolean {
  const r = pending.request;
  return (
    r.method === call.method &&
    r.path === call.path &&
    canonical(r.query?.scope ?? '/') === canonical(call.query?.scope ?? '/') &&
    canonical(r.body ?? null) === canonical(call.body ?? null)
  );
}

/** The Idempotency-Key of a change: from the file's content and the change (a re-run sends the same). */
export const idempotencyKey = (digest: string, change: Pick<PlannedChange, 'id'>): string =>
  `elevate-file-${createHash('sha256').update(`${digest}\n${change.id}`).digest('hex').slice(0, 48)}`;

const reviewInputOf = (r: Review): ReviewInput => ({
  displayName: r.displayName,
  scope: { roleIds: r.scope.roleIds, assignmentTypes: r.scope.assignmentTypes },
  reviewers: {
    type: r.reviewers.type,
    ...(r.reviewers.principals.length > 0 && { principals: r.reviewers.principals }),
  },
  duration: r.duration,
  recurrence: { type: r.recurrence.type },
  defaultDecision: r.defaultDecision,
  autoApply: r.autoApply,
  requireJustification: r.requireJustification,
  recommendationLookback: r.recommendationLookback,
});

export { reviewInputOf };

export function plan(live: LiveState, desired: Desired, options: { prune: boolean }): Plan {
  const changes: PlannedChange[] = [];
  const kept: string[] = [];
  const warnings: string[] = [];
  const liveRoles = new Map(live.roles.map((r) => [r.id, r]));
  const fileRoles = new Map(desired.roles.map((r) => [r.id, r]));

  // Groups: created; the API neither changes nor removes a group, so a difference is a warning.
  const liveGroups = new Map(live.groups.map((g) => [g.id, g]));
  for (const g of desired.groups) {
    const current = liveGroups.get(g.id);
    if (!current) {
      changes.push({
        id: `group:create:${g.id}`,
        action: 'create',
        kind: 'group',
        subject: `group ${g.id}`,
        fields: fieldChanges({}, { displayName: g.displayName, description: g.description }),
        call: {
          method: 'POST',
          path: '/v1/groups',
          body: { id: g.id, displayName: g.displayName, description: marked(g.description) },
        },
      });
      continue;
    }
    const diff = fieldChanges(
      { displayName: current.displayName, description: unmarked(current.description) },
      { displayName: g.displayName, description: g.description },
    );
    if (diff.length > 0) {
      warnings.push(
        `group ${g.id} differs (${diff.map((d) => d.field).join(', ')}): the API does not change a group; left as is`,
      );
    }
  }
  const fileGroups = new Set(desired.groups.map((g) => g.id));
  for (const g of live.groups) {
    if (isManagedText(g.description) && !fileGroups.has(g.id)) {
      warnings.push(`group ${g.id} is managed and not in the file: the API does not remove a group; left as is`);
    }
  }

  // Roles, their targets and their policies.
  for (const r of desired.roles) {
    const current = liveRoles.get(r.id);
    if (current?.builtIn || groupOfRole(r.id)) {
      warnings.push(`role ${r.id} is ${current?.builtIn ? 'built in' : "a group's role"}: the file does not manage it`);
      continue;
    }
    const want = { displayName: r.displayName, description: r.description, privileged: r.privileged };
    if (!current) {
      changes.push({
        id: `role:create:${r.id}`,
        action: 'create',
        kind: 'role',
        subject: `role ${r.id}`,
        fields: fieldChanges({}, want),
        call: { method: 'POST', path: '/v1/roles', body: { id: r.id, ...want, description: marked(r.description) } },
      });
    } else {
      const have = {
        displayName: current.displayName,
        description: unmarked(current.description),
        privileged: current.privileged,
      };
      const diff = fieldChanges(have, want);
      if (!isManagedText(current.description)) diff.push({ field: 'managed', from: false, to: true });
      if (diff.length > 0) {
        const body: Record<string, unknown> = {};
        for (const d of diff) body[d.field === 'managed' ? 'description' : d.field] = d.to;
        if ('description' in body) body.description = marked(r.description);
        changes.push({
          id: `role:update:${r.id}:${digestOf(body)}`,
          action: 'update',
          kind: 'role',
          subject: `role ${r.id}`,
          fields: diff,
          call: { method: 'PATCH', path: `/v1/roles/${enc(r.id)}`, body },
        });
      }
    }
    if (r.targets !== undefined) {
      const have = sortTargets(current?.targets ?? []);
      if (canonical(have) !== canonical(r.targets)) {
        changes.push({
          id: `targets:update:${r.id}:${digestOf(r.targets)}`,
          action: 'update',
          kind: 'targets',
          subject: `targets of role ${r.id}`,
          fields: [{ field: 'targets', from: have, to: r.targets }],
          call: { method: 'PUT', path: `/v1/roles/${enc(r.id)}/targets`, body: { targets: r.targets } },
        });
      }
    }
    const havePolicies = livePolicies(current);
    for (const [scope, policy] of [...r.policies].sort(([a], [b]) => (a === '/' ? -1 : b === '/' ? 1 : byText(a, b)))) {
      const have = havePolicies.get(scope);
      if (have && canonical(have) === canonical(policy)) continue;
      changes.push({
        id: `policy:${have ? 'update' : 'create'}:${r.id}:${scope}:${digestOf(policy)}`,
        action: have ? 'update' : 'create',
        kind: 'policy',
        subject: `policy of role ${r.id} at ${scope}`,
        // A new scope's policy: what it changes from the role's base policy.
        fields: fieldChanges(have ?? r.policies.get('/'), policy),
        call: { method: 'PUT', path: `/v1/roles/${enc(r.id)}/policy`, query: { scope }, body: policy },
      });
    }
    for (const scope of [...havePolicies.keys()].sort(byText)) {
      if (scope === '/' || r.policies.has(scope)) continue;
      const subject = `policy of role ${r.id} at ${scope}`;
      if (!options.prune) {
        kept.push(subject);
        continue;
      }
      changes.push({
        id: `policy:delete:${r.id}:${scope}`,
        action: 'delete',
        kind: 'policy',
        subject,
        fields: [],
        call: { method: 'DELETE', path: `/v1/roles/${enc(r.id)}/policy`, query: { scope } },
      });
    }
  }

  const unmanagedHolders = new Set(
    live.eligibility.filter((e) => e.justification !== MANAGED_JUSTIFICATION).map((e) => e.roleId),
  );
  for (const role of [...live.roles].sort((a, b) => byText(a.id, b.id))) {
    if (fileRoles.has(role.id) || role.builtIn || !isManagedText(role.description)) continue;
    const subject = `role ${role.id}`;
    if (!options.prune) kept.push(subject);
    else if (unmanagedHolders.has(role.id)) {
      warnings.push(`role ${role.id} is managed and not in the file, but holds hand-made assignments: kept`);
    } else {
      changes.push({
        id: `role:delete:${role.id}`,
        action: 'delete',
        kind: 'role',
        subject,
        fields: [],
        call: { method: 'DELETE', path: `/v1/roles/${enc(role.id)}` },
      });
    }
  }

  // Eligibility: made, changed (its end), and (with --prune) removed when managed and not in the file.
  const liveSlots = new Map<string, LiveEligibility>();
  for (const e of live.eligibility) liveSlots.set(slotKey(e), e);
  const wanted = new Map(desired.eligibility.map((e) => [slotKey(e), e]));
  const requestBody = (e: DesiredEligibility | LiveEligibility, action: string, expiration?: string) => ({
    action,
    assignmentType: 'eligible',
    principalId: e.principalId,
    principalType: e.principalType,
    roleId: e.roleId,
    scope: e.scope,
    justification: MANAGED_JUSTIFICATION,
    ...(expiration !== undefined && { schedule: { expiration: expirationBody(expiration) } }),
  });
  for (const e of desired.eligibility) {
    if (!liveRoles.has(e.roleId) && !fileRoles.has(e.roleId)) {
      throw new Error(`eligibility for ${principalText(e.principalType, e.principalId)}: no role '${e.roleId}'`);
    }
    const current = liveSlots.get(slotKey(e));
    const subject = `eligibility of ${principalText(e.principalType, e.principalId)} for ${e.roleId} at ${e.scope}`;
    if (!current) {
      changes.push({
        id: `eligibility:create:${slotKey(e)}:${e.expiration}`,
        action: 'create',
        kind: 'eligibility',
        subject,
        fields: [{ field: 'expiration', from: undefined, to: e.expiration }],
        call: { method: 'POST', path: '/v1/requests', body: requestBody(e, 'adminAssign', e.expiration) },
      });
    } else if (!expirationHolds(e.expiration, current.endDateTime)) {
      changes.push({
        id: `eligibility:update:${slotKey(e)}:${e.expiration}:${current.id}`,
        action: 'update',
        kind: 'eligibility',
        subject,
        fields: [{ field: 'expiration', from: current.endDateTime ?? 'never', to: e.expiration }],
        call: { method: 'POST', path: '/v1/requests', body: requestBody(e, 'adminUpdate', e.expiration) },
      });
    }
  }
  for (const e of [...live.eligibility].sort((a, b) => byText(slotKey(a), slotKey(b)))) {
    if (wanted.has(slotKey(e)) || e.justification !== MANAGED_JUSTIFICATION) continue;
    const subject = `eligibility of ${principalText(e.principalType, e.principalId)} for ${e.roleId} at ${e.scope}`;
    if (!options.prune) {
      kept.push(subject);
      continue;
    }
    changes.push({
      id: `eligibility:delete:${slotKey(e)}:${e.id}`,
      action: 'delete',
      kind: 'eligibility',
      subject,
      fields: [],
      call: { method: 'POST', path: '/v1/requests', body: requestBody(e, 'adminRemove') },
    });
  }

  // Access reviews, by displayName: created; the API neither changes nor removes a review definition.
  if (desired.accessReviews) {
    const liveReviews = new Map(live.reviews.map((r) => [r.displayName, r]));
    for (const r of desired.accessReviews) {
      if (liveReviews.has(r.displayName)) continue;
      changes.push({
        id: `accessReview:create:${r.displayName}:${digestOf(r)}`,
        action: 'create',
        kind: 'accessReview',
        subject: `access review "${r.displayName}"`,
        fields: [],
        call: { method: 'POST', path: '/v1/access-reviews', body: r },
      });
    }
  }

  if (desired.alertSettings) {
    const diff = fieldChanges(live.alertSettings, desired.alertSettings);
    if (diff.length > 0) {
      changes.push({
        id: `alertSettings:update:${digestOf(desired.alertSettings)}`,
        action: 'update',
        kind: 'alertSettings',
        subject: 'alert settings',
        fields: diff,
        call: { method: 'PUT', path: '/v1/alert-settings', body: desired.alertSettings },
      });
    }
  }

  // Order: kind, then creations and updates before removals, then subject.
  const rank = (c: PlannedChange) => KIND_ORDER.indexOf(c.kind);
  const sorted = changes
    .map((c, i) => ({ c, i }))
    .sort(
      (a, b) =>
        Number(a.c.action === 'delete') - Number(b.c.action === 'delete') ||
        (a.c.action === 'delete' ? rank(b.c) - rank(a.c) : rank(a.c) - rank(b.c)) ||
        a.i - b.i,
    )
    .map(({ c }) => {
      const pending = live.pending.find((p) => p.status === 'Pending' && sameCall(c.call, p));
      return pending ? { ...c, pendingChange: pending.id } : c;
    });

  return { changes: sorted, access: effectiveAccess(live, desired, sorted), kept: kept.sort(byText), warnings };
}

/** The effective access of applying `changes`: what each eligibility gained, lost or kept under other terms. */
function effectiveAccess(live: LiveState, desired: Desired, changes: PlannedChange[]): AccessChange[] {
  const before = new Map(live.roles.map((r) => [r.id, livePolicies(r)]));
  const after = new Map(before);
  for (const r of desired.roles) {
    if (!live.roles.find((l) => l.id === r.id)?.builtIn) {
      const merged = new Map(before.get(r.id) ?? [['/', defaultPolicy()]]);
      for (const [s, p] of r.policies) merged.set(s, p);
      for (const c of changes) {
        if (c.kind === 'policy' && c.action === 'delete' && c.call.path === `/v1/roles/${enc(r.id)}/policy`) {
          merged.delete(c.call.query?.scope ?? '');
        }
      }
      after.set(r.id, merged);
    }
  }
  const org = live.organization;
  const terms = (policies: Map<string, Map<string, RolePolicy>>, roleId: string, scope: string) =>
    termsOf(policyAt(policies.get(roleId) ?? new Map([['/', defaultPolicy()]]), scope, org));
  const out: AccessChange[] = [];
  const touched = new Set<string>();
  for (const c of changes) {
    if (c.kind !== 'eligibility' || c.action === 'update') continue;
    const b = c.call.body as { principalType: string; principalId: string; roleId: string; scope: string };
    touched.add(slotKey(b));
    const gains = c.action === 'create';
    out.push({
      effect: gains ? 'gains' : 'loses',
      principal: principalText(b.principalType, b.principalId),
      roleId: b.roleId,
      scope: b.scope,
      terms: terms(gains ? after : before, b.roleId, b.scope),
    });
  }
  for (const e of live.eligibility) {
    if (touched.has(slotKey(e))) continue;
    const was = terms(before, e.roleId, e.scope);
    const will = terms(after, e.roleId, e.scope);
    if (canonical(was) !== canonical(will)) {
      out.push({
        effect: 'changes',
        principal: principalText(e.principalType, e.principalId),
        roleId: e.roleId,
        scope: e.scope,
        terms: will,
        before: was,
      });
    }
  }
  const order = { gains: 0, changes: 1, loses: 2 };
  return out.sort(
    (a, b) =>
      order[a.effect] - order[b.effect] ||
      byText(a.principal, b.principal) ||
      byText(a.roleId, b.roleId) ||
      byText(a.scope, b.scope),
  );
}
