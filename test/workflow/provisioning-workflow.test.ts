import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type ApiClient, api, settle, startTestServer } from '#test/support/local.ts';

/**
 * Provisioning through the synthesized state machine, run by the local runtime on the manual clock, against the
 * Identity Center stand-in (its operations take 5 s on the same clock): grant → Provisioning → Granted once AWS
 * has the assignment, expiry → the assignment deleted, an injected FAILED → Failed, rolled back, alert raised.
 */
interface Req {
  id: string;
  status: string;
  assignmentId: string | null;
  failureReason: string | null;
}
interface Snapshot {
  accountAssignments: { accountId: string; permissionSetArn: string; principalId: string }[];
  users: { userId: string; userName: string }[];
  inlinePolicies: Record<string, { Statement?: Record<string, unknown>[] } | null>;
}

const PS = 'arn:aws:sso:::permissionSet/ssoins-local/ps-admin';
const ACCOUNT = '111111111111';
const SCOPE = `/accounts/${ACCOUNT}`;
let server: LocalServer;
let admin: ApiClient;
let roleCount = 0;

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z'), identityCenterLatency: 'PT5S' });
  admin = api(server).as({ sub: 'admin', mfa: true });
  for (const id of ['admin', 'alice', 'bob']) {
    await admin.put(`/v1/principals/${id}`, { type: 'user', displayName: id, email: `${id}@example.com` });
  }
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

const as = (sub: string) => api(server).as({ sub, mfa: true });
const alice = () => as('alice');
const request = async (id: string) => (await admin.get<Req>(`/v1/requests/${id}`)).body;
const snapshot = async () => (await api(server).get<Snapshot>('/_local/identity-center')).body;
/** Whether alice has ps-admin in the account, in the stand-in. */
async function inAws(): Promise<boolean> {
  const s = await snapshot();
  const alice = s.users.find((u) => u.userName === 'alice');
  return s.accountAssignments.some(
    (a) => a.accountId === ACCOUNT && a.permissionSetArn === PS && a.principalId === alice?.userId,
  );
}
/** Whether a user has ps-admin in the account, in the stand-in. */
async function userInAws(userName: string): Promise<boolean> {
  const s = await snapshot();
  const user = s.users.find((u) => u.userName === userName);
  return s.accountAssignments.some(
    (a) => a.accountId === ACCOUNT && a.permissionSetArn === PS && a.principalId === user?.userId,
  );
}
/** Elevate's fence statement for alice in the inline policy (undefined when there is none). */
function fenceOf(policy: { Statement?: Record<string, unknown>[] } | null | undefined) {
  return (policy?.Statement ?? []).find(
    (st) => String(st.Sid).startsWith('ElevateFence') && JSON.stringify(st.Condition).includes('*:alice'),
  );
}
/** Moves the clock a second at a time (each poll of the workflow waits at least a second), settling each time. */
async function tick(seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    expect((await api(server).post('/_local/clock', { advance: 'PT1S' })).status).toBe(200);
    await settle(server);
  }
}

/** A fresh role delivered as ps-admin in the account, alice eligible for it there. */
async function provisionedRole(approver?: string): Promise<string> {
  const id = `idc-role-${++roleCount}`;
  expect((await admin.post('/v1/roles', { id, displayName: id, privileged: true })).status).toBe(201);
  const policy = defaultPolicy();
  if (approver) {
    policy.activation.approval = {
      required: true,
      stages: [{ approvers: [{ type: 'user', id: approver }], requiredApprovals: 1, timeout: 'PT4H' }],
    };
  }
  expect((await admin.put(`/v1/roles/${id}/policy`, policy)).status).toBe(200);
  const targets = await admin.put(`/v1/roles/${id}/targets`, {
    targets: [{ type: 'identityCenterAccountAssignment', permissionSetArn: PS }],
  });
  expect(targets.status, JSON.stringify(targets.body)).toBe(200);
  const eligible = await admin.post('/v1/requests', {
    action: 'adminAssign',
    assignmentType: 'eligible',
    principalId: 'alice',
    roleId: id,
    scope: SCOPE,
  });
  expect(eligible.status, JSON.stringify(eligible.body)).toBe(201);
  return id;
}

const activate = (roleId: string) =>
  alice().post<Req>('/v1/requests', {
    action: 'selfActivate',
    assignmentType: 'active',
    roleId,
    scope: SCOPE,
    justification: 'incident INC-77',
    schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
  });

describe('provisioning in the access workflow', () => {
  it('grants → Provisioning → Granted once the assignment is in AWS; expiry → the assignment deleted', async () => {
    // Prepare
    const roleId = await provisionedRole();
    // Act: the activation
    const asked = await activate(roleId);
    await settle(server);
    // Assess: AWS is still creating it
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    expect(asked.body.status).toBe('Provisioning');
    expect((await request(asked.body.id)).status).toBe('Provisioning');
    expect(await inAws()).toBe(false);
    // Act: the stand-in's 5 s pass
    await tick(6);
    // Assess
    expect((await request(asked.body.id)).status).toBe('Granted');
    expect(await inAws()).toBe(true);
    const access = await alice().get<{ allowed: boolean; provisioning: string }>(
      `/v1/access?roleId=${roleId}&scope=${SCOPE}`,
    );
    expect(access.body).toMatchObject({ allowed: true, provisioning: 'Provisioned' });
    // Act: the end comes, and the deletion's 5 s pass
    expect((await api(server).post('/_local/clock', { advance: 'PT59M55S' })).status).toBe(200);
    await settle(server);
    await tick(7);
    // Assess
    const ended = await admin.get<{ status: string; provisioning: { status: string } }>(
      `/v1/assignments/${asked.body.assignmentId}`,
    );
    expect(ended.body.status).toBe('Expired');
    expect(ended.body.provisioning.status).toBe('Deprovisioned');
    expect(await inAws()).toBe(false);
    // Assess: alice's sessions in the account issued before the end are fenced (the contract's Deny)
    const fenced = fenceOf((await snapshot()).inlinePolicies[PS]);
    expect(fenced).toMatchObject({
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringLike: { 'aws:userid': '*:alice' }, StringEquals: { 'aws:PrincipalAccount': ACCOUNT } },
    });
    // Act: ps-admin's session duration (PT1H) and 5 minutes pass; the reconcile job runs
    expect((await api(server).post('/_local/clock', { advance: 'PT1H6M' })).status).toBe(200);
    expect((await api(server).post('/_local/schedules/reconcile/run', {})).status).toBeLessThan(300);
    await settle(server);
    // Assess: the fence is taken out
    expect(fenceOf((await snapshot()).inlinePolicies[PS])).toBeUndefined();
  }, 240_000); // some forty HTTP calls and clock ticks, each settled: minutes on a loaded machine

  it('an approved activation is Provisioning at the approval, Granted once provisioned', async () => {
    const roleId = await provisionedRole('bob');
    const asked = await activate(roleId);
    await settle(server);
    const approved = await as('bob').post<Req>(`/v1/requests/${asked.body.id}/approve`, { justification: 'ok' });
    expect(approved.body.status).toBe('Provisioning');
    await settle(server);
    await tick(6);
    expect((await request(asked.body.id)).status).toBe('Granted');
    expect(await inAws()).toBe(true);
    // A deactivation takes it away in AWS (its own execution).
    const off = await alice().post<Req>('/v1/requests', {
      action: 'selfDeactivate',
      assignmentType: 'active',
      roleId,
      scope: SCOPE,
    });
    expect(off.status).toBe(201);
    await settle(server);
    await tick(6);
    expect(await inAws()).toBe(false);
  });

  it('an injected FAILED creation fails the request with the AWS reason, leaves nothing in AWS, raises the alert', async () => {
    // Prepare
    const roleId = await provisionedRole();
    const fault = await api(server).post('/_local/identity-center/faults', {
      operation: 'CreateAccountAssignment',
      accountId: ACCOUNT,
      failureReason: 'the request was not valid: AccessDenied on the member account',
      count: 1,
    });
    expect(fault.status).toBeLessThan(300);
    // Act
    const asked = await activate(roleId);
    await settle(server);
    await tick(6);
    // Assess
    const failed = await request(asked.body.id);
    expect(failed.status).toBe('Failed');
    expect(failed.failureReason).toBe('the request was not valid: AccessDenied on the member account');
    expect(await inAws()).toBe(false);
    const assignment = await admin.get<{ status: string }>(`/v1/assignments/${asked.body.assignmentId}`);
    expect(assignment.body.status).toBe('Revoked');
    const alerts = await admin.get<{ items: { type: string; severity: string }[] }>('/v1/alerts?status=active');
    expect(alerts.body.items).toContainEqual(expect.objectContaining({ type: 'provisioningFailed', severity: 'high' }));
  });
  it("a group's grant follows its membership: the join and leave executions provision and remove, the grant's own keeps its end", async () => {
    // Prepare: a group whose member is alice, granted ps-admin in the account for an hour
    const roleId = await provisionedRole();
    expect((await admin.post('/v1/groups', { id: 'wf-team', displayName: 'wf-team' })).status).toBe(201);
    const member = (principalId: string) => ({
      action: 'adminAssign',
      assignmentType: 'active',
      principalId,
      roleId: 'group-wf-team-member',
      scope: '/',
      justification: 'x',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT8H' } },
    });
    expect((await admin.post('/v1/requests', member('alice'))).status).toBe(201);
    const grant = await admin.post<Req>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'wf-team',
      principalType: 'group',
      roleId,
      scope: SCOPE,
      justification: 'x',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    expect(grant.body.status).toBe('Provisioning');
    await settle(server);
    await tick(6);
    expect((await request(grant.body.id)).status).toBe('Granted');
    expect(await userInAws('alice')).toBe(true);
    // Act: bob joins
    expect((await admin.post('/v1/requests', member('bob'))).status).toBe(201);
    await settle(server);
    await tick(6);
    // Assess
    expect(await userInAws('bob')).toBe(true);
    // Act: alice leaves
    const left = await admin.post('/v1/requests', {
      action: 'adminRemove',
      assignmentType: 'active',
      principalId: 'alice',
      roleId: 'group-wf-team-member',
      scope: '/',
    });
    expect(left.status, JSON.stringify(left.body)).toBe(201);
    await settle(server);
    await tick(7);
    // Assess: gone for alice, kept for bob, and the group's grant still Active
    expect(await userInAws('alice')).toBe(false);
    expect(await userInAws('bob')).toBe(true);
    const live = await admin.get<{ status: string }>(`/v1/assignments/${grant.body.assignmentId}`);
    expect(live.body.status).toBe('Active');
    // Act: the grant's end comes (19 s of ticks have passed since it was made), and the deletions' 5 s pass
    expect((await api(server).post('/_local/clock', { advance: 'PT59M45S' })).status).toBe(200);
    await settle(server);
    await tick(7);
    // Assess
    const ended = await admin.get<{ status: string; provisioning: { status: string } }>(
      `/v1/assignments/${grant.body.assignmentId}`,
    );
    expect(ended.body.status).toBe('Expired');
    expect(ended.body.provisioning.status).toBe('Deprovisioned');
    expect(await userInAws('bob')).toBe(false);
  }, 240_000);
});
