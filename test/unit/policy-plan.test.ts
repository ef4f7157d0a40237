import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { defaultAlertSettings } from '#shared/domain/alerts.ts';
import type { ScopeItem } from '#shared/domain/scope.ts';
import { type Desired, loadFile } from '../../cli/policy/format.ts';
import { type LiveState, MANAGED_JUSTIFICATION, marked, plan, policyAt, termsOf } from '../../cli/policy/plan.ts';
import { renderPlan } from '../../cli/policy/render.ts';
import { exportFile } from '../../cli/policy/run.ts';

const FIXTURE = readFileSync(new URL('../fixtures/policy/elevate.yaml', import.meta.url), 'utf8');
const PROD = 'ou-root-prod0001';
const DEV = 'ou-root-dev00001';
const PROD_ACCOUNT = '/accounts/333333333333';
const DEV_ACCOUNT = '/accounts/444444444444';

/** The organization: the root, a prod and a dev OU, and account 333… under `under333` (444… under dev). */
function organization(under333 = PROD): ScopeItem[] {
  return [
    { scope: '/', type: 'root', id: 'r-root', name: 'Root', parentScope: null },
    { scope: `/ous/${PROD}`, type: 'organizationalUnit', id: PROD, name: 'Prod', parentScope: '/' },
    { scope: `/ous/${DEV}`, type: 'organizationalUnit', id: DEV, name: 'Dev', parentScope: '/' },
    { scope: PROD_ACCOUNT, type: 'account', id: '333333333333', name: 'db', parentScope: `/ous/${under333}` },
    { scope: DEV_ACCOUNT, type: 'account', id: '444444444444', name: 'db-dev', parentScope: `/ous/${DEV}` },
  ];
}

const empty = (org = organization()): LiveState => ({
  roles: [
    {
      id: 'elevate-admin',
      displayName: 'Elevate administrator',
      description: null,
      privileged: true,
      builtIn: true,
      targets: [],
      policies: [],
    },
  ],
  groups: [],
  eligibility: [],
  reviews: [],
  alertSettings: defaultAlertSettings(),
  organization: org,
  pending: [],
});

/** The live state once `desired` is applied. */
function applied(desired: Desired, org = organization()): LiveState {
  const live = empty(org);
  live.roles.push(
    ...desired.roles.map((r) => ({
      id: r.id,
      displayName: r.displayName,
      description: marked(r.description),
      privileged: r.privileged,
      builtIn: false,
      targets: r.targets ?? [],
      policies: [...r.policies].map(([scope, policy]) => ({ scope, policy })),
    })),
  );
  live.groups = desired.groups.map((g) => ({ ...g, description: marked(g.description) }));
  live.eligibility = desired.eligibility.map((e, i) => ({
    id: `a${i}`,
    ...e,
    endDateTime: e.expiration === 'never' ? null : '2027-06-01T00:00:00.000Z',
    justification: MANAGED_JUSTIFICATION,
  }));
  return live;
}

const load = (text = FIXTURE) => loadFile('elevate.yaml', text);

describe('the planner', () => {
  it('plans an empty service into the file in a fixed order, with the same words every time', () => {
    // Act
    const first = plan(empty(), load(), { prune: false });
    const shuffled = empty();
    shuffled.organization = [...shuffled.organization].reverse();
    const again = plan(shuffled, load(), { prune: false });

    // Assess
    expect(first.changes.map((c) => `${c.action} ${c.subject}`)).toEqual([
      'create group oncall',
      'create role db-admin',
      'update targets of role db-admin',
      'update policy of role db-admin at /',
      'create policy of role db-admin at /ous/ou-root-dev00001',
      'create policy of role db-admin at /ous/ou-root-prod0001',
      'create eligibility of group:oncall for db-admin at /ous/ou-root-prod0001',
      'create eligibility of user:alice for db-admin at /accounts/333333333333',
    ]);
    expect(renderPlan(again)).toEqual(renderPlan(first));
    expect(first.changes.find((c) => c.subject === 'policy of role db-admin at /')?.fields).toEqual([
      { field: 'activation.maxDuration', from: 'PT8H', to: 'PT2H' },
    ]);
    expect(renderPlan(first)).toContain('  + create policy of role db-admin at /ous/ou-root-dev00001');
    expect(renderPlan(first)).toContain('      activation.requireJustification: false');
    expect(renderPlan(first).at(-1)).toBe('Plan: 6 to create, 2 to change, 0 to remove.');
  });

  it('finds nothing to do when the service matches the file, and only the one policy that differs', () => {
    // Prepare
    const desired = load();
    const live = applied(desired);
    const edited = load(FIXTURE.replace('requiredApprovals: 2', 'requiredApprovals: 3'));

    // Act
    const same = plan(live, desired, { prune: true });
    const one = plan(live, edited, { prune: true });

    // Assess
    expect(same.changes).toEqual([]);
    expect(same.access).toEqual([]);
    expect(renderPlan(same)[0]).toBe('No changes: the service matches the file.');
    expect(one.changes.map((c) => c.subject)).toEqual([`policy of role db-admin at /ous/${PROD}`]);
    expect(one.changes[0]?.fields).toEqual([
      { field: 'activation.approval.stages', from: expect.anything(), to: expect.anything() },
    ]);
  });

  it('shows per-scope approvers in the effective access: prod needs two approvers, dev none', () => {
    // Prepare: the same role for alice in a prod and a dev account.
    const text = FIXTURE.replace(
      'accessReviews: []',
      `  - { principal: { type: user, id: alice }, role: db-admin, scope: ${DEV_ACCOUNT}, expiration: P30D }\naccessReviews: []`,
    );

    // Act
    const p = plan(empty(), load(text), { prune: false });

    // Assess
    const alice = p.access.filter((a) => a.principal === 'user:alice');
    expect(alice.map((a) => [a.effect, a.scope, a.terms.policyScope, a.terms.approval])).toEqual([
      ['gains', PROD_ACCOUNT, `/ous/${PROD}`, 'stage 1: 2 of group:dba-leads within PT4H'],
      ['gains', DEV_ACCOUNT, `/ous/${DEV}`, 'no approval'],
    ]);
    expect(alice[1]?.terms.limits).toBe('activation up to PT2H, 1 extension(s), needs MFA');
    const text2 = renderPlan(p).join('\n');
    expect(text2).toContain(
      `  + user:alice gains db-admin at ${PROD_ACCOUNT}\n      policy of /ous/${PROD}: stage 1: 2 of group:dba-leads within PT4H`,
    );
  });

  it('gives an account moved into an OU that OU’s policy, with no edit of the file', () => {
    // Prepare: the file is applied while 333… is under the dev OU; then the account moves under prod.
    const desired = load();
    const before = applied(desired, organization(DEV));
    const after = applied(desired, organization(PROD));
    const policies = desired.roles[0]?.policies ?? new Map();

    // Act
    const planBefore = plan(before, desired, { prune: false });
    const planAfter = plan(after, desired, { prune: false });
    const gained = plan(empty(organization(PROD)), desired, { prune: false });

    // Assess
    expect(planBefore.changes).toEqual([]);
    expect(planAfter.changes).toEqual([]);
    expect(termsOf(policyAt(policies, PROD_ACCOUNT, before.organization)).approval).toBe('no approval');
    expect(termsOf(policyAt(policies, PROD_ACCOUNT, after.organization)).approval).toBe(
      'stage 1: 2 of group:dba-leads within PT4H',
    );
    expect(gained.access.find((a) => a.scope === PROD_ACCOUNT)?.terms.policyScope).toBe(`/ous/${PROD}`);
  });

  it('with --prune removes managed eligibility missing from the file, never a hand-made one', () => {
    // Prepare
    const desired = load();
    const live = applied(desired);
    const slot = { principalType: 'user' as const, roleId: 'db-admin', scope: DEV_ACCOUNT, endDateTime: null };
    live.eligibility.push(
      { id: 'h1', principalId: 'bob', justification: 'break-glass, by hand', ...slot },
      { id: 'm1', principalId: 'carol', justification: MANAGED_JUSTIFICATION, ...slot },
    );

    // Act
    const pruned = plan(live, desired, { prune: true });
    const kept = plan(live, desired, { prune: false });

    // Assess
    expect(pruned.changes.map((c) => `${c.action} ${c.subject}`)).toEqual([
      `delete eligibility of user:carol for db-admin at ${DEV_ACCOUNT}`,
    ]);
    expect(pruned.changes[0]?.call.body).toMatchObject({ action: 'adminRemove', principalId: 'carol' });
    expect(pruned.access.map((a) => `${a.principal} ${a.effect}`)).toEqual(['user:carol loses']);
    expect(kept.changes).toEqual([]);
    expect(kept.kept).toEqual([`eligibility of user:carol for db-admin at ${DEV_ACCOUNT}`]);
  });

  it('exports a service as a file whose plan is empty, hand-made resources included', () => {
    // Prepare
    const live = applied(load());
    live.roles.push({
      id: 'by-hand',
      displayName: 'Made by hand',
      description: 'not in any file',
      privileged: false,
      builtIn: false,
      targets: [],
      policies: [{ scope: '/', policy: load().roles[0]?.policies.get(`/ous/${PROD}`) as never }],
    });

    // Act
    const text = stringify(exportFile(live));
    const p = plan(live, loadFile('export.yaml', text), { prune: true });

    // Assess
    expect(p.changes.map((c) => `${c.action} ${c.subject}`)).toEqual(['update role by-hand']);
    expect(p.changes[0]?.fields).toEqual([{ field: 'managed', from: false, to: true }]);
  });
});
