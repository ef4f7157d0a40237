import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type ApiClient, api, settle, startTestServer } from '#test/support/local.ts';

/**
 * Issue 11 item 5, over HTTP: Elevate's own power needs MFA (`governance.adminMfa`) and, when
 * `governance.requireSecondAdmin` is on, a second administrator (pending changes, api.md "Governance").
 */
interface Problem {
  code: string;
  detail: string;
}
interface Change {
  id: string;
  kind: string;
  summary: string;
  proposedBy: string;
  proposedAt: string;
  status: string;
  request: { method: string; path: string; body: unknown };
  decidedBy: string | null;
  result: { status: number; body: unknown } | null;
}
interface AuditPage {
  items: { action: string; actor: { id: string }; details: Record<string, unknown> }[];
}

let server: LocalServer;
/** The break-glass admin, with MFA. */
let admin: ApiClient;
/** The same admin's token without MFA (a stolen password session). */
let adminNoMfa: ApiClient;
/** A second administrator, with MFA. */
let second: ApiClient;

const as = (sub: string, mfa = true) => api(server).as({ sub, mfa });
const strippedPolicy = () => {
  const p = defaultPolicy();
  p.activation.requireMfa = false;
  p.activation.approval = { required: false, stages: [] };
  p.activeAssignment.allowPermanent = true;
  return p;
};
const gatedPolicy = () => {
  const p = defaultPolicy();
  p.activation.approval = {
    required: true,
    stages: [{ approvers: [{ type: 'user', id: 'approver' }], requiredApprovals: 1, timeout: 'PT8H' }],
  };
  return p;
};
const isAdmin = async (sub: string) =>
  (await admin.get<{ allowed: boolean }>(`/v1/access?principalId=${sub}&roleId=elevate-admin`)).body.allowed;
const audit = async (query: string) => (await admin.get<AuditPage>(`/v1/audit-events?${query}`)).body.items;

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
  admin = as('admin');
  adminNoMfa = as('admin', false);
  second = as('second-admin');
  expect(
    (
      await admin.post('/v1/requests', {
        action: 'adminAssign',
        assignmentType: 'active',
        principalId: 'second-admin',
        roleId: 'elevate-admin',
        justification: 'second administrator',
        schedule: { expiration: { type: 'afterDuration', duration: 'P180D' } },
      })
    ).status,
  ).toBe(201);
  expect((await admin.post('/v1/roles', { id: 'db-admin', displayName: 'DB', privileged: true })).status).toBe(201);
  expect((await admin.put('/v1/roles/db-admin/policy', gatedPolicy())).status).toBe(200);
  expect((await admin.post('/v1/roles', { id: 'wiki', displayName: 'Wiki', privileged: false })).status).toBe(201);
});
afterAll(async () => {
  await server?.stop();
});

describe('admin changes need MFA (governance.adminMfa, default on)', () => {
  it('refuses an admin token without MFA that strips MFA and approval from a privileged role, and audits it', async () => {
    // Act
    const res = await adminNoMfa.put<Problem>('/v1/roles/db-admin/policy', strippedPolicy());

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MfaRequired');
    expect((await admin.get('/v1/roles/db-admin/policy')).body).toEqual(gatedPolicy());
    const refused = await audit('actorId=admin&action=authorization.refused');
    expect(refused[0]?.details).toMatchObject({ operationId: 'putPolicy', code: 'MfaRequired' });
  });

  it('refuses an admin token without MFA that makes another user admin', async () => {
    // Act
    const res = await adminNoMfa.post<Problem>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'mallory',
      roleId: 'elevate-admin',
      justification: 'trust me',
      schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
    });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MfaRequired');
    expect(await isAdmin('mallory')).toBe(false);
  });

  it('refuses an admin token without MFA that gives itself a permanent privileged role', async () => {
    // Prepare: a privileged role whose policy allows permanent active assignments (set with MFA)
    await admin.post('/v1/roles', { id: 'root-ops', displayName: 'Root ops', privileged: true });
    expect((await admin.put('/v1/roles/root-ops/policy', strippedPolicy())).status).toBe(200);

    // Act
    const res = await adminNoMfa.post<Problem>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'admin',
      roleId: 'root-ops',
      justification: 'mine now',
    });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MfaRequired');
    const held = await admin.get<{ allowed: boolean }>('/v1/access?principalId=admin&roleId=root-ops');
    expect(held.body.allowed).toBe(false);
  });

  it('refuses every other admin change without MFA too, but still lets the admin read', async () => {
    // Act
    const role = await adminNoMfa.post<Problem>('/v1/roles', { id: 'nomfa', displayName: 'x', privileged: false });
    const principal = await adminNoMfa.put<Problem>('/v1/principals/x', { type: 'user', displayName: 'X' });
    const read = await adminNoMfa.get('/v1/assignments');

    // Assess
    expect([role.status, role.body.code]).toEqual([400, 'MfaRequired']);
    expect([principal.status, principal.body.code]).toEqual([400, 'MfaRequired']);
    expect(read.status).toBe(200);
  });

  it('refuses an admin without MFA who approves a request as an administrator (approver role elevate-admin)', async () => {
    // Prepare: carol holds an eligible wiki assignment and asks to renew it herself (admins approve that)
    await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'carol',
      roleId: 'wiki',
      schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
    });
    const asked = await as('carol').post<{ id: string }>('/v1/requests', {
      action: 'selfExtend',
      assignmentType: 'eligible',
      roleId: 'wiki',
      justification: 'still on the wiki team',
      schedule: { expiration: { type: 'afterDuration', duration: 'P60D' } },
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);

    // Act
    const res = await adminNoMfa.post<Problem>(`/v1/requests/${asked.body.id}/approve`, { justification: 'ok' });

    // Assess
    expect([res.status, res.body.code]).toEqual([400, 'MfaRequired']);
    expect((await admin.post(`/v1/requests/${asked.body.id}/approve`, { justification: 'ok' })).status).toBe(200);
  });

  it('shows the settings with their defaults, to admins only', async () => {
    // Act
    const res = await admin.get('/v1/settings');

    // Assess
    expect(res).toMatchObject({ status: 200, body: { governance: { adminMfa: true, requireSecondAdmin: false } } });
    expect((await as('eve').get('/v1/settings')).status).toBe(403);
  });

  it('lets an admin with MFA turn adminMfa off, after which a token without MFA may change things', async () => {
    // Act
    const off = await admin.put('/v1/settings', { governance: { adminMfa: false, requireSecondAdmin: false } });
    const made = await adminNoMfa.post('/v1/roles', { id: 'nomfa-ok', displayName: 'x', privileged: false });
    const on = await admin.put('/v1/settings', { governance: { adminMfa: true, requireSecondAdmin: false } });
    const refused = await adminNoMfa.post<Problem>('/v1/roles', { id: 'nomfa-2', displayName: 'x', privileged: false });

    // Assess
    expect(off.status).toBe(200);
    expect(made.status).toBe(201);
    expect(on.status).toBe(200);
    expect(refused.body.code).toBe('MfaRequired');
    expect((await audit('action=settings.updated')).length).toBe(2);
  });

  it('refuses settings that are not valid', async () => {
    const res = await admin.put<Problem>('/v1/settings', { governance: { adminMfa: 'no' }, extra: 1 });
    expect([res.status, res.body.code]).toEqual([400, 'ValidationFailed']);
  });
});

describe('four eyes (governance.requireSecondAdmin)', () => {
  beforeAll(async () => {
    const on = await admin.put('/v1/settings', { governance: { adminMfa: true, requireSecondAdmin: true } });
    expect(on.status).toBe(200);
  });

  it('turns a change to a privileged role policy into a pending change that the proposer cannot approve', async () => {
    // Act
    const proposed = await admin.put<Change>('/v1/roles/db-admin/policy', strippedPolicy());
    const self = await admin.post<Problem>(`/v1/changes/${proposed.body.id}/approve`, {});

    // Assess
    expect(proposed.status).toBe(202);
    expect(proposed.body).toMatchObject({
      kind: 'rolePolicy',
      proposedBy: 'admin',
      status: 'Pending',
      request: { method: 'PUT', path: '/v1/roles/db-admin/policy', body: strippedPolicy() },
    });
    expect(proposed.body.summary).toContain('db-admin');
    expect((await admin.get('/v1/roles/db-admin/policy')).body).toEqual(gatedPolicy());
    expect([self.status, self.body.code]).toEqual([403, 'SelfApprovalForbidden']);
    const refused = await audit('actorId=admin&action=authorization.refused');
    expect(refused[0]?.details).toMatchObject({ operationId: 'approveChange', code: 'SelfApprovalForbidden' });
    expect((await admin.get<Change>(`/v1/changes/${proposed.body.id}`)).body.status).toBe('Pending');
  });

  it('applies a pending change exactly as the original call when a second admin approves it', async () => {
    // Prepare
    const proposed = await admin.put<Change>('/v1/roles/db-admin/policy', strippedPolicy());

    // Act
    const approved = await second.post<Change>(`/v1/changes/${proposed.body.id}/approve`, {});
    const again = await second.post<Problem>(`/v1/changes/${proposed.body.id}/approve`, {});

    // Assess
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ status: 'Applied', decidedBy: 'second-admin' });
    expect(approved.body.result).toEqual({ status: 200, body: strippedPolicy() });
    expect((await admin.get('/v1/roles/db-admin/policy')).body).toEqual(strippedPolicy());
    expect(again.status).toBe(409);
    const actions = (await audit('roleId=db-admin')).map((e) => e.action);
    expect(actions.slice(0, 2)).toEqual(['change.applied', 'policy.updated']);
    const applied = (await audit('action=change.applied'))[0];
    expect(applied?.actor.id).toBe('second-admin');
    expect((await audit('action=change.proposed')).length).toBeGreaterThanOrEqual(2);
    // restore
    const back = await admin.put<Change>('/v1/roles/db-admin/policy', gatedPolicy());
    expect((await second.post(`/v1/changes/${back.body.id}/approve`, {})).status).toBe(200);
  });

  it('keeps changes to roles that are not privileged immediate', async () => {
    expect((await admin.put('/v1/roles/wiki/policy', strippedPolicy())).status).toBe(200);
  });

  it('holds making a role unprivileged (which would free its policy) for a second admin', async () => {
    const res = await admin.patch<Change>('/v1/roles/db-admin', { privileged: false });
    expect(res.status).toBe(202);
    expect(res.body.kind).toBe('privilegedRole');
    expect((await admin.get<{ privileged: boolean }>('/v1/roles/db-admin')).body.privileged).toBe(true);
    expect((await admin.patch('/v1/roles/db-admin', { description: 'harmless' })).status).toBe(200);
  });

  it('holds making another admin until a second admin approves; the request is the proposer’s', async () => {
    // Act
    const proposed = await admin.post<Change>(
      '/v1/requests',
      {
        action: 'adminAssign',
        assignmentType: 'active',
        principalId: 'dave',
        roleId: 'elevate-admin',
        justification: 'new team lead',
        schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
      },
      { 'idempotency-key': 'make-dave' },
    );
    const retried = await admin.post<Change>(
      '/v1/requests',
      {
        action: 'adminAssign',
        assignmentType: 'active',
        principalId: 'dave',
        roleId: 'elevate-admin',
        justification: 'new team lead',
        schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
      },
      { 'idempotency-key': 'make-dave' },
    );
    const before = await isAdmin('dave');
    const approved = await second.post<Change & { result: { body: { createdBy: string; status: string } } }>(
      `/v1/changes/${proposed.body.id}/approve`,
      {},
    );

    // Assess
    expect(proposed.status).toBe(202);
    expect(proposed.body.kind).toBe('adminAssignment');
    expect(retried.body.id).toBe(proposed.body.id);
    expect(before).toBe(false);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.result).toMatchObject({ status: 201, body: { createdBy: 'admin', status: 'Granted' } });
    expect(await isAdmin('dave')).toBe(true);
  });

  it('applies a change once when two admins approve it at the same time', async () => {
    // Prepare: dave is an admin now (the test above)
    const proposed = await admin.post<Change>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'gina',
      roleId: 'elevate-admin',
      schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
    });
    expect(proposed.status).toBe(202);

    // Act
    const both = await Promise.all([
      second.post<Change>(`/v1/changes/${proposed.body.id}/approve`, {}),
      as('dave').post<Change>(`/v1/changes/${proposed.body.id}/approve`, {}),
    ]);

    // Assess
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    const made = await admin.get<{ items: unknown[] }>('/v1/assignments?principalId=gina&roleId=elevate-admin');
    expect(made.body.items).toHaveLength(1);
    expect((await audit('action=change.applied')).filter((e) => e.details.changeId === proposed.body.id)).toHaveLength(
      1,
    );
  });

  it('refuses a proposal that the original call would refuse (nothing pending)', async () => {
    const res = await admin.post<Problem>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'erin',
      roleId: 'elevate-admin',
      schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
    });
    expect([res.status, res.body.code]).toEqual([400, 'JustificationRequired']);
  });

  it('rejects a pending change: nothing is applied and it cannot be approved afterwards', async () => {
    // Prepare
    const proposed = await admin.post<Change>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'frank',
      roleId: 'elevate-auditor',
      justification: 'audit',
      schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
    });

    // Act
    const rejected = await second.post<Change>(`/v1/changes/${proposed.body.id}/reject`, { justification: 'no' });
    const approved = await second.post<Problem>(`/v1/changes/${proposed.body.id}/approve`, {});

    // Assess
    expect(rejected).toMatchObject({ status: 200, body: { status: 'Rejected', decidedBy: 'second-admin' } });
    expect(approved.status).toBe(409);
    const auditor = await admin.get<{ allowed: boolean }>('/v1/access?principalId=frank&roleId=elevate-auditor');
    expect(auditor.body.allowed).toBe(false);
    expect((await audit('action=change.rejected')).length).toBe(1);
  });

  it('lists changes for admins, filtered by status, and hides them from others', async () => {
    const pending = await admin.get<{ items: Change[] }>('/v1/changes?status=Pending');
    expect(pending.status).toBe(200);
    expect(pending.body.items.length).toBeGreaterThan(0);
    expect(pending.body.items.every((c) => c.status === 'Pending')).toBe(true);
    expect((await as('eve').get('/v1/changes')).status).toBe(403);
    expect((await as('eve').post(`/v1/changes/${pending.body.items[0]?.id}/approve`, {})).status).toBe(403);
  });

  it('holds a change of the settings themselves, so one admin cannot switch the second admin off', async () => {
    // Act
    const proposed = await admin.put<Change>('/v1/settings', {
      governance: { adminMfa: false, requireSecondAdmin: false },
    });

    // Assess
    expect(proposed.status).toBe(202);
    expect(proposed.body.kind).toBe('settings');
    expect((await admin.get('/v1/settings')).body).toMatchObject({
      governance: { adminMfa: true, requireSecondAdmin: true },
    });
    expect((await second.post(`/v1/changes/${proposed.body.id}/reject`, {})).status).toBe(200);
  });

  it('expires a pending change after 7 days: it can no longer be approved, and reconcile records the expiry', async () => {
    // Prepare
    const proposed = await admin.put<Change>('/v1/roles/db-admin/policy', strippedPolicy());
    const other = await admin.put<Change>('/v1/roles/root-ops/policy', gatedPolicy());
    await server.manualClock?.advance(7 * 86_400_000 + 60_000);
    await settle(server);

    // Act
    const late = await second.post<Problem>(`/v1/changes/${proposed.body.id}/approve`, {});
    expect((await api(server).post('/_local/schedules/reconcile/run')).status).toBe(200);

    // Assess
    expect(late.status).toBe(409);
    expect((await admin.get<Change>(`/v1/changes/${proposed.body.id}`)).body.status).toBe('Expired');
    expect((await admin.get<Change>(`/v1/changes/${other.body.id}`)).body.status).toBe('Expired');
    expect((await admin.get('/v1/roles/db-admin/policy')).body).toEqual(gatedPolicy());
    const expired = await audit('action=change.expired');
    expect(expired.length).toBeGreaterThanOrEqual(2);
  });
});

describe('the deployment setting ELEVATE_ADMIN_MFA=false', () => {
  let other: LocalServer;
  const saved = process.env.ELEVATE_ADMIN_MFA;
  beforeAll(async () => {
    process.env.ELEVATE_ADMIN_MFA = 'false';
    other = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
  });
  afterAll(async () => {
    await other?.stop();
    if (saved === undefined) delete process.env.ELEVATE_ADMIN_MFA;
    else process.env.ELEVATE_ADMIN_MFA = saved;
  });

  it('turns the MFA requirement off for identity providers that do not report amr', async () => {
    const res = await api(other)
      .as({ sub: 'admin', mfa: false })
      .post('/v1/roles', { id: 'no-amr', displayName: 'x', privileged: false });
    expect(res.status).toBe(201);
  });
});
