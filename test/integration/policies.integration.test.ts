import { beforeAll, describe, expect, it } from 'vitest';
import { depsFromEnv } from '#shared/deps.ts';
import { defaultPolicy, type RolePolicy } from '#shared/domain/policy.ts';
import { type OrgNodeRecord, ops } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

/** Policies per scope (issue 15): the routes, the policy in force at a request's scope, and its record. */

const PROD = '/accounts/111111111111';
const DEV = '/accounts/222222222222';
const OU_PROD = 'ou-ab12-prod0001';
const OU_DEV = 'ou-ab12-dev00001';
const AT = '2026-01-01T00:00:00.000Z';

beforeAll(async () => {
  await createTestTable();
  await bootstrap(depsFromEnv(), ['admin', 'admin2']);
  await depsFromEnv().store.transact([
    ops.putOrgNode(node('organizationalUnit', OU_PROD, [ROOT])),
    ops.putOrgNode(node('organizationalUnit', OU_DEV, [ROOT])),
    ops.putOrgNode(node('account', '333333333333', [ROOT, OU_DEV])),
  ]);
});

const ROOT = 'r-ab12';
function node(type: OrgNodeRecord['type'], id: string, ancestors: string[]): OrgNodeRecord {
  const scope = type === 'account' ? `/accounts/${id}` : `/ous/${id}`;
  const parent = ancestors.at(-1) as string;
  return {
    scope,
    type,
    id,
    name: id,
    parentScope: parent === ROOT ? '/' : `/ous/${parent}`,
    ancestors,
    status: type === 'account' ? 'ACTIVE' : null,
    updatedAt: AT,
  };
}

const twoApprovers = (): RolePolicy => {
  const p = defaultPolicy();
  p.activation.approval = {
    required: true,
    stages: [
      {
        approvers: [
          { type: 'user', id: 'lead-1' },
          { type: 'user', id: 'lead-2' },
        ],
        requiredApprovals: 2,
        timeout: 'PT4H',
      },
    ],
  };
  return p;
};

const withMaxDuration = (maxDuration: string): RolePolicy => {
  const p = defaultPolicy();
  p.activation.maxDuration = maxDuration;
  return p;
};

async function newRole(id: string): Promise<void> {
  const made = await call('POST', '/v1/roles', { as: 'admin', body: { id, displayName: id, privileged: true } });
  expect(made.status).toBe(201);
}

async function makeEligible(roleId: string, principalId: string): Promise<void> {
  const res = await call('POST', '/v1/requests', {
    as: 'admin',
    body: { action: 'adminAssign', assignmentType: 'eligible', principalId, principalType: 'user', roleId, scope: '/' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

const activate = (roleId: string, who: string, scope: string) =>
  call('POST', '/v1/requests', {
    as: who,
    body: {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId,
      scope,
      justification: 'INC-1',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    },
  });

describe('policies per scope', () => {
  it('answers the policy of the most specific scope that covers the one asked, and lists them', async () => {
    // Prepare
    await newRole('pol-read');
    const put = await call('PUT', `/v1/roles/pol-read/policy?scope=${PROD}`, {
      as: 'admin',
      body: withMaxDuration('PT1H'),
    });
    expect(put.status).toBe(200);

    // Act
    const below = await call('GET', `/v1/roles/pol-read/policy?scope=${PROD}/regions/eu-west-1`, { as: 'someone' });
    const sibling = await call('GET', `/v1/roles/pol-read/policy?scope=${DEV}`, { as: 'someone' });
    const base = await call('GET', '/v1/roles/pol-read/policy', { as: 'someone' });
    const list = await call('GET', '/v1/roles/pol-read/policies', { as: 'someone' });

    // Assess
    expect(below.body.activation.maxDuration).toBe('PT1H');
    expect(sibling.body.activation.maxDuration).toBe('PT8H');
    expect(base.body.activation.maxDuration).toBe('PT8H');
    expect(list.body.items.map((i: { scope: string }) => i.scope)).toEqual(['/', PROD]);
    expect(list.body.items[1].policy.activation.maxDuration).toBe('PT1H');
    expect(list.body.nextToken).toBeNull();
  });

  it('removes a scoped policy (the scope falls back), never the base one, and audits each change with its scope', async () => {
    // Prepare
    await newRole('pol-del');
    await call('PUT', `/v1/roles/pol-del/policy?scope=${PROD}`, { as: 'admin', body: withMaxDuration('PT1H') });
    await call('PUT', `/v1/roles/pol-del/policy?scope=${PROD}`, { as: 'admin', body: withMaxDuration('PT2H') });

    // Act
    const removed = await call('DELETE', `/v1/roles/pol-del/policy?scope=${PROD}`, { as: 'admin' });
    const again = await call('DELETE', `/v1/roles/pol-del/policy?scope=${PROD}`, { as: 'admin' });
    const baseByDefault = await call('DELETE', '/v1/roles/pol-del/policy', { as: 'admin' });
    const baseNamed = await call('DELETE', '/v1/roles/pol-del/policy?scope=/', { as: 'admin' });
    const after = await call('GET', `/v1/roles/pol-del/policy?scope=${PROD}`, { as: 'someone' });

    // Assess
    expect(removed.status).toBe(204);
    expect(again.status).toBe(404);
    expect(baseByDefault.status).toBe(400);
    expect(baseNamed.status).toBe(400);
    expect(after.body.activation.maxDuration).toBe('PT8H');
    const events = await call('GET', '/v1/audit-events?roleId=pol-del', { as: 'admin' });
    const policyEvents = events.body.items
      .filter((e: { action: string }) => e.action.startsWith('policy.'))
      .map((e: { action: string; target: { scope: string } }) => [e.action, e.target.scope]);
    expect(policyEvents).toEqual([
      ['policy.deleted', PROD],
      ['policy.updated', PROD],
      ['policy.created', PROD],
    ]);
  });

  it.each([
    ['a climb to another account', '/accounts/111111111111/../222222222222'],
    ['a trailing slash', '/accounts/111111111111/'],
    ['full-width digits', '/accounts/%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91'],
    ['a zero-width space', '/accounts/111111111111%E2%80%8B'],
    ['an empty scope', ''],
  ])('refuses %s in the scope with 400 on every policy route, and writes nothing', async (_what, scope) => {
    // Prepare
    await newRole(`pol-bad-${scope.length}`);
    const role = `pol-bad-${scope.length}`;

    // Act
    const get = await call('GET', `/v1/roles/${role}/policy?scope=${scope}`, { as: 'someone' });
    const put = await call('PUT', `/v1/roles/${role}/policy?scope=${scope}`, { as: 'admin', body: defaultPolicy() });
    const del = await call('DELETE', `/v1/roles/${role}/policy?scope=${scope}`, { as: 'admin' });
    const list = await call('GET', `/v1/roles/${role}/policies`, { as: 'admin' });

    // Assess
    expect([get.status, put.status, del.status]).toEqual([400, 400, 400]);
    expect(put.body.errors.map((e: { path: string }) => e.path)).toContain('query.scope');
    expect(list.body.items.map((i: { scope: string }) => i.scope)).toEqual(['/']);
  });

  it('decides each request under the policy in force at its scope: prod needs two approvers, dev none', async () => {
    // Prepare
    await newRole('pol-gate');
    await call('PUT', `/v1/roles/pol-gate/policy?scope=${PROD}`, { as: 'admin', body: twoApprovers() });
    await makeEligible('pol-gate', 'erin');

    // Act
    const dev = await activate('pol-gate', 'erin', DEV);
    const prod = await activate('pol-gate', 'erin', `${PROD}/regions/eu-west-1`);

    // Assess
    expect(dev.status, JSON.stringify(dev.body)).toBe(201);
    expect(dev.body).toMatchObject({ status: 'Granted', policyScope: '/' });
    expect(prod.status, JSON.stringify(prod.body)).toBe(202);
    expect(prod.body).toMatchObject({ status: 'PendingApproval', policyScope: PROD });
    expect(prod.body.approval.stages[0]).toMatchObject({ requiredApprovals: 2, timeout: 'PT4H' });
  });

  it('keeps the policy a request was decided under when the scope policy changes afterwards', async () => {
    // Prepare
    await newRole('pol-kept');
    await call('PUT', `/v1/roles/pol-kept/policy?scope=${PROD}`, { as: 'admin', body: twoApprovers() });
    await makeEligible('pol-kept', 'frank');
    const pending = await activate('pol-kept', 'frank', PROD);
    expect(pending.status).toBe(202);

    // Act: the prod policy goes; the pending request still needs its two approvers.
    await call('DELETE', `/v1/roles/pol-kept/policy?scope=${PROD}`, { as: 'admin' });
    const first = await call('POST', `/v1/requests/${pending.body.id}/approve`, {
      as: 'lead-1',
      body: { justification: 'ok' },
    });
    const read = await call('GET', `/v1/requests/${pending.body.id}`, { as: 'admin' });

    // Assess
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(read.body).toMatchObject({ status: 'PendingApproval', policyScope: PROD });
  });

  it("applies an OU's policy to the accounts under it, and follows an account the organization moves", async () => {
    // Prepare
    await newRole('pol-ou');
    await call('PUT', `/v1/roles/pol-ou/policy?scope=/ous/${OU_PROD}`, { as: 'admin', body: twoApprovers() });
    await call('PUT', `/v1/roles/pol-ou/policy?scope=/ous/${OU_DEV}`, { as: 'admin', body: withMaxDuration('PT2H') });
    const account = '/accounts/333333333333';

    // Act
    const inDev = await call('GET', `/v1/roles/pol-ou/policy?scope=${account}`, { as: 'someone' });
    await depsFromEnv().store.transact([ops.putOrgNode(node('account', '333333333333', [ROOT, OU_PROD]))]);
    const inProd = await call('GET', `/v1/roles/pol-ou/policy?scope=${account}/regions/eu-west-1`, { as: 'someone' });
    await makeEligible('pol-ou', 'gina');
    const asked = await activate('pol-ou', 'gina', account);

    // Assess
    expect(inDev.body.activation.maxDuration).toBe('PT2H');
    expect(inProd.body.activation.approval.required).toBe(true);
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect(asked.body.policyScope).toBe(`/ous/${OU_PROD}`);
  });

  it('deletes the scoped policies with their role (a role made again starts from the defaults)', async () => {
    // Prepare
    await newRole('pol-gone');
    await call('PUT', `/v1/roles/pol-gone/policy?scope=${PROD}`, { as: 'admin', body: withMaxDuration('PT1H') });

    // Act
    const deleted = await call('DELETE', '/v1/roles/pol-gone', { as: 'admin' });
    await newRole('pol-gone');
    const list = await call('GET', '/v1/roles/pol-gone/policies', { as: 'admin' });
    const prod = await call('GET', `/v1/roles/pol-gone/policy?scope=${PROD}`, { as: 'admin' });

    // Assess
    expect(deleted.status).toBe(204);
    expect(list.body.items.map((i: { scope: string }) => i.scope)).toEqual(['/']);
    expect(prod.body.activation.maxDuration).toBe('PT8H');
  });

  it('lets only an admin change policies, and anyone signed in read them', async () => {
    // Prepare
    await newRole('pol-auth');

    // Act
    const put = await call('PUT', `/v1/roles/pol-auth/policy?scope=${PROD}`, { as: 'mallory', body: defaultPolicy() });
    const del = await call('DELETE', `/v1/roles/pol-auth/policy?scope=${PROD}`, { as: 'mallory' });
    const list = await call('GET', '/v1/roles/pol-auth/policies', { as: 'mallory' });
    const missing = await call('GET', '/v1/roles/no-such-role/policies', { as: 'mallory' });

    // Assess
    expect([put.status, del.status, list.status, missing.status]).toEqual([403, 403, 200, 404]);
  });

  // Last: it turns requireSecondAdmin on for the rest of this file's table.
  it('holds a scoped policy change of a privileged role for a second admin, and applies it at its scope', async () => {
    // Prepare
    await newRole('pol-held');
    await call('PUT', `/v1/roles/pol-held/policy?scope=${DEV}`, { as: 'admin', body: withMaxDuration('PT3H') });
    const on = await call('PUT', '/v1/settings', {
      as: 'admin',
      body: { governance: { adminMfa: true, requireSecondAdmin: true } },
    });
    expect(on.status).toBe(200);

    // Act
    const put = await call('PUT', `/v1/roles/pol-held/policy?scope=${PROD}`, { as: 'admin', body: twoApprovers() });
    const del = await call('DELETE', `/v1/roles/pol-held/policy?scope=${DEV}`, { as: 'admin' });
    const whilePending = await call('GET', `/v1/roles/pol-held/policy?scope=${PROD}`, { as: 'admin' });
    const approvedPut = await call('POST', `/v1/changes/${put.body.id}/approve`, { as: 'admin2', body: {} });
    const approvedDel = await call('POST', `/v1/changes/${del.body.id}/approve`, { as: 'admin2', body: {} });
    const list = await call('GET', '/v1/roles/pol-held/policies', { as: 'admin' });

    // Assess
    expect(put.status).toBe(202);
    expect(put.body).toMatchObject({
      kind: 'rolePolicy',
      summary: `replace the policy of privileged role 'pol-held' at '${PROD}'`,
      request: { query: { scope: PROD } },
    });
    expect(del.status).toBe(202);
    expect(del.body.summary).toBe(`remove the policy of privileged role 'pol-held' at '${DEV}'`);
    expect(whilePending.body.activation.approval.required).toBe(false);
    expect([approvedPut.status, approvedDel.status]).toEqual([200, 200]);
    expect(list.body.items.map((i: { scope: string }) => i.scope)).toEqual(['/', PROD]);
    expect(list.body.items[1].policy.activation.approval.required).toBe(true);
  });
});
