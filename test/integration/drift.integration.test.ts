/**
 * The drift job against DynamoDB Local and the Identity Center stand-in (real SDK clients over HTTP), on the manual
 * clock: an assignment and a membership made outside Elevate raise assignedOutsideElevate; in remove mode they are
 * deleted and audited drift.removed; what a live grant backs (a user's own, or a group member's) is never touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IdentityCenterEndpoint,
  LOCAL_GROUP_ID,
  LOCAL_IDC_INSTANCE_ARN,
  LOCAL_IDENTITY_STORE_ID,
  LOCAL_PERMISSION_SETS,
  LocalIdentityCenter,
  startIdentityCenterEndpoint,
} from '#infra/local/identity-center.ts';
import { ManualClock, useClock } from '#shared/clock.ts';
import { type Deps, depsFromEnv } from '#shared/deps.ts';
import { SsoAdminIdentityCenter } from '#shared/ports/identity-center.ts';
import { AwsIdentityStore } from '#shared/ports/identity-store.ts';
import { AwsOrganizations } from '#shared/ports/organizations.ts';
import type { RetryPolicy } from '#shared/ports/retry.ts';
import { scanAlerts } from '#shared/usecases/alerts.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { detectDrift } from '#shared/usecases/drift.ts';
import type { PollPolicy } from '#shared/usecases/fence.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

const clock = new ManualClock(new Date('2026-12-01T09:00:00Z'));
const standIn = new LocalIdentityCenter({ clock, latency: 'PT2S' });
const retry: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  sleep: async (ms) => clock.advance(ms),
  random: () => 0.5,
};
const poll: PollPolicy = { attempts: 8, baseDelayMs: 500, maxDelayMs: 4_000, sleep: async (ms) => clock.advance(ms) };
const ENV = [
  'AWS_ENDPOINT_URL_SSO_ADMIN',
  'AWS_ENDPOINT_URL_IDENTITYSTORE',
  'AWS_ENDPOINT_URL_ORGANIZATIONS',
  'ELEVATE_IDC_INSTANCE_ARN',
  'ELEVATE_IDENTITY_STORE_ID',
];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
const ADMIN = LOCAL_PERMISSION_SETS.admin;
let endpoint: IdentityCenterEndpoint;
let deps: Deps;
let store: AwsIdentityStore;

const userId = (name: string) => standIn.ensureUser(name).userId;
const assigned = (accountId: string, name: string) =>
  standIn
    .snapshot()
    .accountAssignments.some(
      (a) => a.accountId === accountId && a.permissionSetArn === ADMIN && a.principalId === userId(name),
    );
const member = (name: string) =>
  standIn.snapshot().groupMemberships.some((m) => m.groupId === LOCAL_GROUP_ID && m.userId === userId(name));

async function ok(res: Promise<{ status: number; body: unknown }>, status = 201) {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body as Record<string, unknown>;
}

const assignActive = (principalId: string, roleId: string, scope: string, principalType = 'user') =>
  ok(
    call('POST', '/v1/requests', {
      as: 'admin',
      body: {
        action: 'adminAssign',
        assignmentType: 'active',
        principalId,
        principalType,
        roleId,
        scope,
        justification: 'setup',
        schedule: { expiration: { type: 'afterDuration', duration: 'PT8H' } },
      },
    }),
  );

async function driftAlerts(status: string) {
  const res = await call('GET', `/v1/alerts?status=${status}`, { as: 'admin' });
  return (res.body.items as { type: string; affected: Record<string, unknown>[]; severity: string }[]).filter(
    (a) => a.type === 'assignedOutsideElevate',
  );
}

beforeAll(async () => {
  useClock(clock);
  endpoint = await startIdentityCenterEndpoint(standIn);
  await createTestTable();
  process.env.AWS_ENDPOINT_URL_SSO_ADMIN = endpoint.url;
  process.env.AWS_ENDPOINT_URL_IDENTITYSTORE = endpoint.url;
  process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = endpoint.url;
  process.env.ELEVATE_IDC_INSTANCE_ARN = LOCAL_IDC_INSTANCE_ARN;
  process.env.ELEVATE_IDENTITY_STORE_ID = LOCAL_IDENTITY_STORE_ID;
  store = new AwsIdentityStore(LOCAL_IDENTITY_STORE_ID, retry);
  deps = {
    ...depsFromEnv(),
    provisioning: {
      identityCenter: new SsoAdminIdentityCenter(LOCAL_IDC_INSTANCE_ARN, retry),
      identityStore: store,
      organizations: new AwsOrganizations(retry),
    },
  };
  await bootstrap(depsFromEnv(), ['admin']);
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) standIn.ensureUser(name);
  // ops-admin is delivered as ps-admin in the grant's account; oncall as membership of g-local-oncall.
  for (const [id, targets] of [
    ['ops-admin', [{ type: 'identityCenterAccountAssignment', permissionSetArn: ADMIN }]],
    ['oncall', [{ type: 'identityCenterGroupMembership', groupId: LOCAL_GROUP_ID }]],
  ] as const) {
    await ok(call('POST', '/v1/roles', { as: 'admin', body: { id, displayName: id, privileged: false } }));
    await ok(call('PUT', `/v1/roles/${id}/targets`, { as: 'admin', body: { targets } }), 200);
  }
  // Backed: alice's own grant in 111111111111, erin's membership through her oncall grant, and dave's assignment in
  // 333333333333 through the Elevate group he is an active member of.
  await assignActive('alice', 'ops-admin', '/accounts/111111111111');
  await assignActive('erin', 'oncall', '/');
  await ok(call('POST', '/v1/groups', { as: 'admin', body: { id: 'sre', displayName: 'SRE' } }));
  await assignActive('dave', 'group-sre-member', '/');
  await assignActive('sre', 'ops-admin', '/accounts/333333333333', 'group');
  standIn.assignOutside('111111111111', ADMIN, 'alice');
  standIn.assignOutside('333333333333', ADMIN, 'dave');
  await store.createMembership(LOCAL_GROUP_ID, userId('erin'));
  // Outside Elevate: bob's assignment in 222222222222, carol's membership.
  standIn.assignOutside('222222222222', ADMIN, 'bob');
  await store.createMembership(LOCAL_GROUP_ID, userId('carol'));
}, 120_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await endpoint?.close();
});

describe('the drift job', () => {
  it('alerts on what no live grant backs and removes nothing in alert mode (the default)', async () => {
    // Act
    const report = await detectDrift(deps, undefined, { poll });
    // Assess
    expect(report).toMatchObject({ found: 2, removed: 0, failed: 0, complete: true });
    const alerts = await driftAlerts('active');
    expect(alerts.map((a) => a.affected[0])).toEqual(
      expect.arrayContaining([
        {
          type: 'identityCenterAccountAssignment',
          permissionSetArn: ADMIN,
          accountId: '222222222222',
          principalType: 'USER',
          principalId: userId('bob'),
        },
        { type: 'identityCenterGroupMembership', groupId: LOCAL_GROUP_ID, userId: userId('carol') },
      ]),
    );
    expect(alerts).toHaveLength(2);
    expect(alerts.every((a) => a.severity === 'high')).toBe(true);
    expect(assigned('222222222222', 'bob') && member('carol')).toBe(true);
    // The hourly alerts scan does not resolve them: their cause is the drift job's to judge.
    await scanAlerts(deps);
    expect(await driftAlerts('active')).toHaveLength(2);
  });

  it('refuses settings of an unknown mode (strict schema), and writes nothing', async () => {
    // Prepare
    const current = await ok(call('GET', '/v1/alert-settings', { as: 'admin' }), 200);
    // Act
    const bad = await call('PUT', '/v1/alert-settings', {
      as: 'admin',
      body: { ...current, assignedOutsideElevate: { enabled: true, mode: 'delete' } },
    });
    const extra = await call('PUT', '/v1/alert-settings', {
      as: 'admin',
      body: { ...current, assignedOutsideElevate: { enabled: true, mode: 'remove', dryRun: true } },
    });
    // Assess
    expect(current.assignedOutsideElevate).toEqual({ enabled: true, mode: 'alert' });
    expect(bad.status).toBe(400);
    expect(extra.status).toBe(400);
    expect(await ok(call('GET', '/v1/alert-settings', { as: 'admin' }), 200)).toEqual(current);
  });

  it('in remove mode deletes what no grant backs, audits drift.removed, and never what a grant backs', async () => {
    // Prepare
    const current = await ok(call('GET', '/v1/alert-settings', { as: 'admin' }), 200);
    await ok(
      call('PUT', '/v1/alert-settings', {
        as: 'admin',
        body: { ...current, assignedOutsideElevate: { enabled: true, mode: 'remove' } },
      }),
      200,
    );
    // Act
    const report = await detectDrift(deps, undefined, { poll });
    const next = await detectDrift(deps, undefined, { poll });
    // Assess
    expect(report).toMatchObject({ found: 2, removed: 2, failed: 0 });
    expect(assigned('222222222222', 'bob')).toBe(false);
    expect(member('carol')).toBe(false);
    expect(assigned('111111111111', 'alice')).toBe(true);
    expect(assigned('333333333333', 'dave')).toBe(true);
    expect(member('erin')).toBe(true);
    const audits = await call('GET', '/v1/audit-events?action=drift.removed', { as: 'admin' });
    expect(audits.body.items.map((e: { details: Record<string, unknown> }) => e.details)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ accountId: '222222222222', principalId: userId('bob'), status: 'SUCCEEDED' }),
        expect.objectContaining({ groupId: LOCAL_GROUP_ID, userId: userId('carol'), status: 'SUCCEEDED' }),
      ]),
    );
    // The next run finds nothing and resolves the alerts whose cause has gone.
    expect(next).toMatchObject({ found: 0, resolved: 2 });
    expect(await driftAlerts('active')).toEqual([]);
  });

  it('goes on from where a run cut short by its time budget stopped', async () => {
    // Prepare: two units with drift; the budget lets one unit through.
    standIn.assignOutside('222222222222', ADMIN, 'bob');
    await store.createMembership(LOCAL_GROUP_ID, userId('carol'));
    let units = 0;
    const budget = { timeLeft: () => (units++ < 3 ? 60_000 : 0), reserveMs: 1_000 };
    // Act
    const first = await detectDrift(deps, budget, { poll });
    const second = await detectDrift(deps, undefined, { poll });
    // Assess
    expect(first.complete).toBe(false);
    expect(second.complete).toBe(true);
    expect(first.units + second.units).toBe(4);
    expect(first.removed + second.removed).toBe(2);
    expect(assigned('222222222222', 'bob') || member('carol')).toBe(false);
  });

  it("judges a grant by the targets it was provisioned with, not its role's targets now", async () => {
    // Prepare: alert mode; frank's grant of 'shifting' provisioned ps-admin in 222222222222 (the assignment there
    // stands for it); then the role's targets change to membership of g-local-oncall, and frank is made a member of
    // it outside Elevate.
    const current = await ok(call('GET', '/v1/alert-settings', { as: 'admin' }), 200);
    await ok(
      call('PUT', '/v1/alert-settings', {
        as: 'admin',
        body: { ...current, assignedOutsideElevate: { enabled: true, mode: 'alert' } },
      }),
      200,
    );
    standIn.ensureUser('frank');
    await ok(
      call('POST', '/v1/roles', { as: 'admin', body: { id: 'shifting', displayName: 'shifting', privileged: false } }),
    );
    const psTargets = [{ type: 'identityCenterAccountAssignment', permissionSetArn: ADMIN }];
    await ok(call('PUT', '/v1/roles/shifting/targets', { as: 'admin', body: { targets: psTargets } }), 200);
    const grant = await assignActive('frank', 'shifting', '/accounts/222222222222');
    standIn.assignOutside('222222222222', ADMIN, 'frank');
    const groupTargets = [{ type: 'identityCenterGroupMembership', groupId: LOCAL_GROUP_ID }];
    await ok(call('PUT', '/v1/roles/shifting/targets', { as: 'admin', body: { targets: groupTargets } }), 200);
    await store.createMembership(LOCAL_GROUP_ID, userId('frank'));
    // Act
    const report = await detectDrift(deps, undefined, { poll });
    // Assess: the live grant backs its ps-admin assignment; the membership its role now names is not its.
    expect(grant.status).toBe('Provisioning');
    expect(report).toMatchObject({ found: 1, removed: 0, failed: 0 });
    expect((await driftAlerts('active')).map((a) => a.affected[0])).toEqual([
      { type: 'identityCenterGroupMembership', groupId: LOCAL_GROUP_ID, userId: userId('frank') },
    ]);
    expect(assigned('222222222222', 'frank') && member('frank')).toBe(true);
  });
});
