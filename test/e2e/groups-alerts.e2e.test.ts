import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultAlertSettings } from '#shared/domain/alerts.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type ApiClient, api, emails, settle, startTestServer } from '#test/support/local.ts';

/** Time-bound group membership, access through groups, every alert type, and the weekly digest, over HTTP. */
interface Alert {
  id: string;
  type: string;
  status: string;
  severity: string;
  affected: Record<string, unknown>[];
}

let server: LocalServer;
let admin: ApiClient;
/** A second administrator, so the break-glass account can stop acting. */
let ops: ApiClient;

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
  admin = api(server).as({ sub: 'admin', mfa: true });
  await admin.put('/v1/principals/admin', { type: 'user', displayName: 'Admin', email: 'admin@example.com' });
  await admin.post('/v1/requests', {
    action: 'adminAssign',
    assignmentType: 'active',
    principalId: 'ops-admin',
    roleId: 'elevate-admin',
    justification: 'day-to-day administrator',
    schedule: { expiration: { type: 'afterDuration', duration: 'P180D' } },
  });
  ops = api(server).as({ sub: 'ops-admin', mfa: true });
});
afterAll(async () => {
  await server?.stop();
});

const as = (sub: string) => api(server).as({ sub, mfa: true });
const advance = async (duration: string) => {
  await api(server).post('/_local/clock', { advance: duration });
  await settle(server);
};
const scan = async () => {
  expect((await api(server).post('/_local/schedules/alerts/run', {})).status).toBe(200);
  return (await ops.get<{ items: Alert[] }>('/v1/alerts?limit=200')).body.items;
};
const ofType = (alerts: Alert[], type: string) => alerts.filter((a) => a.type === type);

describe('groups', () => {
  it('gives a role to the active members of a group that holds it, until the membership ends', async () => {
    expect((await ops.post('/v1/groups', { id: 'dba', displayName: 'Database admins' })).status).toBe(201);
    expect((await ops.post('/v1/groups', { id: 'dba', displayName: 'again' })).status).toBe(409);
    await ops.post('/v1/roles', { id: 'rds-admin', displayName: 'RDS admin', privileged: false });
    const held = await ops.post<{ assignmentId: string }>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'dba',
      principalType: 'group',
      roleId: 'rds-admin',
      scope: '/accounts/1',
      justification: 'the team runs the databases',
      schedule: { expiration: { type: 'afterDuration', duration: 'P90D' } },
    });
    expect(held.status).toBe(201);
    await ops.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'dave',
      roleId: 'group-dba-member',
    });
    const check = () =>
      as('dave').get<{
        allowed: boolean;
        assignmentId: string | null;
        viaGroup: string | null;
        expiresAt: string | null;
      }>('/v1/access?roleId=rds-admin&scope=/accounts/1/regions/eu-west-1');
    expect((await check()).body.allowed).toBe(false);

    const joined = await as('dave').post('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'group-dba-member',
      justification: 'on call',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT2H' } },
    });
    expect(joined.status).toBe(201);
    const yes = await check();
    expect(yes.body).toMatchObject({ allowed: true, assignmentId: held.body.assignmentId, viaGroup: 'dba' });
    expect(yes.body.expiresAt).toBe(new Date(server.clock.now().getTime() + 2 * 3_600_000).toISOString());
    expect((await as('dave').get('/v1/access?roleId=rds-admin&scope=/accounts/2')).body).toMatchObject({
      allowed: false,
    });

    const members = await as('dave').get<{ items: { principalId: string; relation: string }[] }>(
      '/v1/groups/dba/members',
    );
    expect(members.body.items).toEqual([expect.objectContaining({ principalId: 'dave', relation: 'member' })]);
    expect((await as('eve').get('/v1/groups/dba/members')).status).toBe(403);
    expect((await as('eve').get<{ items: { id: string }[] }>('/v1/groups')).body.items.map((g) => g.id)).toContain(
      'dba',
    );

    await advance('PT2H');
    expect((await check()).body.allowed).toBe(false);
  });

  it("lets a group's owners approve its membership requests when the policy names them", async () => {
    await ops.post('/v1/groups', { id: 'sre', displayName: 'SRE' });
    const policy = defaultPolicy();
    policy.activation.approval = {
      required: true,
      stages: [{ approvers: [{ type: 'groupOwners', id: 'sre' }], requiredApprovals: 1, timeout: 'PT4H' }],
    };
    expect((await ops.put('/v1/roles/group-sre-member/policy', policy)).status).toBe(200);
    await ops.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'erin',
      roleId: 'group-sre-member',
    });
    await ops.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'olga',
      roleId: 'group-sre-owner',
      justification: 'team lead',
      schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
    });
    const asked = await as('erin').post<{ id: string; status: string }>('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'group-sre-member',
      justification: 'joining',
    });
    expect(asked.body.status).toBe('PendingApproval');
    await settle(server);
    // dave is neither an owner of sre nor anyone who may see erin's request: the 404 of a request that does not exist
    expect((await as('dave').post(`/v1/requests/${asked.body.id}/approve`, {})).status).toBe(404);
    const approved = await as('olga').post<{ status: string }>(`/v1/requests/${asked.body.id}/approve`, {});
    expect(approved.body.status).toBe('Granted');
    await settle(server);
  });
});

describe('alerts', () => {
  it('raises roleWithoutMfa for a privileged role that activates without MFA, and resolves it when the policy is fixed', async () => {
    await ops.post('/v1/roles', { id: 'weak', displayName: 'Weak', privileged: true });
    const policy = defaultPolicy();
    policy.activation.requireMfa = false;
    await ops.put('/v1/roles/weak/policy', policy);
    const raised = ofType(await scan(), 'roleWithoutMfa').find((a) => a.affected[0]?.roleId === 'weak');
    expect(raised).toMatchObject({ status: 'active', severity: 'high' });
    await ops.put('/v1/roles/weak/policy', defaultPolicy());
    const after = ofType(await scan(), 'roleWithoutMfa').find((a) => a.id === raised?.id);
    expect(after?.status).toBe('resolved');
  });

  it('raises tooManyPermanentAssignments over the threshold, and resolves it when the threshold is raised', async () => {
    const settings = defaultAlertSettings();
    settings.tooManyPermanentAssignments.threshold = 0;
    expect((await ops.put('/v1/alert-settings', settings)).status).toBe(200);
    const raised = ofType(await scan(), 'tooManyPermanentAssignments')[0];
    expect(raised?.status).toBe('active');
    expect(raised?.affected).toEqual(
      expect.arrayContaining([expect.objectContaining({ principalId: 'admin', roleId: 'elevate-admin' })]),
    );
    settings.tooManyPermanentAssignments.threshold = 5;
    await ops.put('/v1/alert-settings', settings);
    expect(ofType(await scan(), 'tooManyPermanentAssignments')[0]?.status).toBe('resolved');
  });

  it('raises activatedTooFrequently, can be dismissed (audited), and resolves when the window passes', async () => {
    const settings = defaultAlertSettings();
    settings.activatedTooFrequently.threshold = 1;
    await ops.put('/v1/alert-settings', settings);
    await ops.post('/v1/roles', { id: 'often', displayName: 'Often', privileged: false });
    await ops.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'frank',
      roleId: 'often',
    });
    for (let i = 0; i < 2; i++) {
      await as('frank').post('/v1/requests', {
        action: 'selfActivate',
        assignmentType: 'active',
        roleId: 'often',
        justification: 'again',
      });
      await as('frank').post('/v1/requests', { action: 'selfDeactivate', assignmentType: 'active', roleId: 'often' });
    }
    const raised = ofType(await scan(), 'activatedTooFrequently').find((a) => a.affected[0]?.principalId === 'frank');
    expect(raised?.status).toBe('active');
    expect((await as('frank').post(`/v1/alerts/${raised?.id}/dismiss`, {})).status).toBe(403);
    const dismissed = await ops.post<Alert>(`/v1/alerts/${raised?.id}/dismiss`, {});
    expect(dismissed.body.status).toBe('dismissed');
    expect((await ops.post(`/v1/alerts/${raised?.id}/dismiss`, {})).status).toBe(409);
    expect(ofType(await scan(), 'activatedTooFrequently').find((a) => a.id === raised?.id)?.status).toBe('dismissed');
    const audit = await ops.get<{ items: { details: { alertId: string } }[] }>(
      '/v1/audit-events?action=alert.dismissed',
    );
    expect(audit.body.items[0]?.details.alertId).toBe(raised?.id);
    await advance('P2D');
    expect(ofType(await scan(), 'activatedTooFrequently').find((a) => a.id === raised?.id)?.status).toBe('resolved');
  });

  it('raises staleEligibility for a privileged eligibility never activated, and resolves it at the first activation', async () => {
    const settings = defaultAlertSettings();
    settings.staleEligibility.days = 1;
    await ops.put('/v1/alert-settings', settings);
    await ops.post('/v1/roles', { id: 'rarely', displayName: 'Rarely', privileged: true });
    await ops.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'gina',
      roleId: 'rarely',
    });
    await advance('P2D');
    const stale = ofType(await scan(), 'staleEligibility')[0];
    expect(stale?.affected).toEqual(
      expect.arrayContaining([expect.objectContaining({ principalId: 'gina', roleId: 'rarely' })]),
    );
    const activated = await as('gina').post('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'rarely',
      justification: 'finally',
    });
    expect(activated.status, JSON.stringify(activated.body)).toBe(201);
    const after = ofType(await scan(), 'staleEligibility')[0];
    // Gina was the only stale privileged eligibility: the alert's cause is gone.
    expect(after?.status).toBe('resolved');
  });

  it('raises emergencyAccountUsed when a break-glass admin acts, mails the admins at once, and resolves after the window', async () => {
    await admin.put('/v1/principals/someone', { type: 'user', displayName: 'Someone' });
    const raised = ofType(await scan(), 'emergencyAccountUsed')[0];
    expect(raised).toMatchObject({ status: 'active', severity: 'high', affected: [{ principalId: 'admin' }] });
    expect(
      (await emails(server)).some(
        (m) => m.subject.includes('emergencyAccountUsed') && m.to.includes('admin@example.com'),
      ),
    ).toBe(true);
    await advance('P2D');
    expect(ofType(await scan(), 'emergencyAccountUsed')[0]?.status).toBe('resolved');
  });

  it('raises expiryMissed when the reconcile job finds an assignment past its end that no workflow expired', async () => {
    const res = await ops.post<{ id: string }>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'hank',
      roleId: 'often',
      justification: 'x',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    await settle(server);
    const sfn = new SFNClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await sfn.send(
      new StopExecutionCommand({
        executionArn: `${server.stateMachineArn.replace(':stateMachine:', ':execution:')}:${res.body.id}`,
      }),
    );
    await advance('PT1H30M');
    await api(server).post('/_local/schedules/reconcile/run', {});
    const alerts = (await ops.get<{ items: Alert[] }>('/v1/alerts?status=active')).body.items;
    expect(ofType(alerts, 'expiryMissed')[0]?.affected).toEqual(
      expect.arrayContaining([expect.objectContaining({ principalId: 'hank' })]),
    );
  });

  it('lets only admins read and change the settings, and refuses a bad one', async () => {
    expect((await as('eve').get('/v1/alert-settings')).status).toBe(403);
    expect((await as('eve').get('/v1/alerts')).status).toBe(403);
    const bad = { ...defaultAlertSettings(), roleWithoutMfa: { enabled: true, severity: 'critical' } };
    expect((await ops.put('/v1/alert-settings', bad)).status).toBe(400);
  });
});

describe('the weekly digest', () => {
  it('mails the admins activations per role, assignment changes, pending approvals and active alerts', async () => {
    expect((await api(server).post('/_local/schedules/digest/run', {})).status).toBe(200);
    const digest = (await emails(server)).filter((m) => m.subject.startsWith('Elevate weekly digest')).at(-1);
    expect(digest?.to).toContain('admin@example.com');
    expect(digest?.text).toContain('Activations per role:');
    expect(digest?.text).toContain('Pending approvals:');
    expect(digest?.text).toMatch(/Active alerts: \d+/);
  });
});
