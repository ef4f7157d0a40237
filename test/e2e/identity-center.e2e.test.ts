/**
 * The local runtime's Identity Center / Organizations stand-in, as a client sees it: `/_local/identity-center`
 * controls, users for the principals that get tokens, the real SDK reaching it on the runtime's port, operations
 * ending on the manual clock, role targets and the pre-grant checks over HTTP, and OU scopes synced by the job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PERMISSION_SETS } from '#infra/local/identity-center.ts';
import type { LocalServer } from '#infra/local/server.ts';
import { SsoAdminIdentityCenter } from '#shared/ports/identity-center.ts';
import { AwsIdentityStore } from '#shared/ports/identity-store.ts';
import { type AnonymousApiClient, type ApiClient, api, startTestServer } from '#test/support/local.ts';

interface Snapshot {
  accountAssignments: { accountId: string; permissionSetArn: string; principalId: string; principalType: string }[];
  users: { userId: string; userName: string; email: string | null }[];
  inlinePolicies: Record<string, unknown>;
}

let server: LocalServer;
let http: AnonymousApiClient;
let admin: ApiClient;

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-12-01T09:00:00Z') });
  http = api(server);
  admin = http.as({ sub: 'admin', mfa: true });
});

afterAll(async () => {
  await server?.stop();
});

const snapshot = async () => (await http.get<Snapshot>('/_local/identity-center')).body;

describe('the Identity Center stand-in of npm start', () => {
  it('seeds the contract users and adds one for each principal that gets a token', async () => {
    // Act
    await http.as({ sub: 'zoe', email: 'zoe@example.com', mfa: true }).get('/v1/me/assignments');
    const state = await snapshot();
    // Assess
    expect(state.users.map((u) => u.userName)).toEqual(
      expect.arrayContaining(['alice', 'bob', 'carol', 'dave', 'zoe']),
    );
    expect(state.users.find((u) => u.userName === 'zoe')?.email).toBe('zoe@example.com');
    expect(state.inlinePolicies).toEqual({
      [LOCAL_PERMISSION_SETS.admin]: null,
      [LOCAL_PERMISSION_SETS.readonly]: null,
    });
  });

  it('answers the real SDK on the runtime port; a creation stays IN_PROGRESS until the manual clock passes the latency', async () => {
    // Prepare: the runtime pointed AWS_ENDPOINT_URL_SSO_ADMIN / _IDENTITYSTORE at itself
    expect(process.env.AWS_ENDPOINT_URL_SSO_ADMIN).toBe(server.url);
    const idc = new SsoAdminIdentityCenter(process.env.ELEVATE_IDC_INSTANCE_ARN as string);
    const userId = await new AwsIdentityStore(process.env.ELEVATE_IDENTITY_STORE_ID as string).findUserId({
      userName: 'bob',
    });
    // Act
    const started = await idc.createAccountAssignment({
      accountId: '222222222222',
      permissionSetArn: LOCAL_PERMISSION_SETS.readonly,
      principalId: userId as string,
      principalType: 'USER',
    });
    const before = await snapshot();
    await http.post('/_local/clock', { advance: 'PT2S' });
    const after = await idc.describeAssignmentCreation(started.requestId);
    // Assess
    expect(before.accountAssignments).toEqual([]);
    expect(after.status).toBe('SUCCEEDED');
    expect((await snapshot()).accountAssignments).toEqual([
      {
        accountId: '222222222222',
        permissionSetArn: LOCAL_PERMISSION_SETS.readonly,
        principalId: userId,
        principalType: 'USER',
      },
    ]);
  });

  it('takes faults and outside assignments, and refuses malformed ones', async () => {
    const bad = await http.post('/_local/identity-center/faults', { operation: 'Nope', failureReason: 'x' });
    expect(bad.status).toBe(400);
    const ok = await http.post('/_local/identity-center/faults', {
      operation: 'CreateAccountAssignment',
      accountId: '111111111111',
      failureReason: 'quota',
      count: 1,
    });
    expect(ok.status).toBe(200);
    const outside = await http.post<Snapshot>('/_local/identity-center/account-assignments', {
      accountId: '333333333333',
      permissionSetArn: LOCAL_PERMISSION_SETS.admin,
      userName: 'carol',
    });
    expect(outside.status).toBe(200);
    expect(outside.body.accountAssignments).toContainEqual(
      expect.objectContaining({ accountId: '333333333333', permissionSetArn: LOCAL_PERMISSION_SETS.admin }),
    );
    const noAccount = await http.post('/_local/identity-center/account-assignments', {
      accountId: '999999999999',
      permissionSetArn: LOCAL_PERMISSION_SETS.admin,
      userName: 'carol',
    });
    expect(noAccount.status).toBe(400);
  });

  it('serves targets and the pre-grant checks over HTTP', async () => {
    // Prepare
    expect(
      (await admin.post('/v1/roles', { id: 'prod-admin', displayName: 'Prod admin', privileged: true })).status,
    ).toBe(201);
    const put = await admin.put('/v1/roles/prod-admin/targets', {
      targets: [{ type: 'identityCenterAccountAssignment', permissionSetArn: LOCAL_PERMISSION_SETS.admin }],
    });
    expect(put.status).toBe(200);
    expect(
      (
        await admin.post('/v1/requests', {
          action: 'adminAssign',
          assignmentType: 'eligible',
          principalId: 'zoe',
          roleId: 'prod-admin',
          scope: '/',
          justification: 'on call',
        })
      ).status,
    ).toBe(201);
    const zoe = http.as({ sub: 'zoe', email: 'zoe@example.com', mfa: true });
    const activation = (scope: string) => ({
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'prod-admin',
      scope,
      justification: 'INC-9',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    // Act
    const atRoot = await zoe.post<{ code: string }>('/v1/requests', activation('/'));
    const inAccount = await zoe.post<{ status: string }>('/v1/requests', activation('/accounts/111111111111'));
    // Assess
    expect(atRoot.status).toBe(400);
    expect(atRoot.body.code).toBe('ScopeNotProvisionable');
    expect(inAccount.status).toBe(201);
    expect(inAccount.body.status).toBe('Provisioning');
  });

  it('syncs the organization into GET /v1/scopes, and follows a moved account', async () => {
    // Act
    const run = await http.post('/_local/schedules/organization-sync/run');
    const moved = await http.post('/_local/identity-center/organization/moves', {
      id: '333333333333',
      parentId: 'ou-local-prod',
    });
    await http.post('/_local/schedules/organization-sync/run');
    const scopes = await admin.get<{ items: { scope: string; parentScope: string | null }[] }>('/v1/scopes');
    // Assess
    expect(run.status).toBe(200);
    expect(moved.status).toBe(200);
    expect(scopes.body.items.map((i) => i.scope)).toEqual([
      '/',
      '/accounts/111111111111',
      '/accounts/222222222222',
      '/accounts/333333333333',
      '/ous/ou-local-dev',
      '/ous/ou-local-prod',
    ]);
    expect(scopes.body.items.find((i) => i.scope === '/accounts/333333333333')?.parentScope).toBe('/ous/ou-local-prod');
  });

  it('runs the drift job on demand: the assignment made outside Elevate raises assignedOutsideElevate', async () => {
    // Act: prod-admin (targets ps-admin) is managed; carol's ps-admin in 333333333333 came from outside.
    const run = await http.post<{ result: { found: number; removed: number; complete: boolean } }>(
      '/_local/schedules/drift/run',
    );
    const alerts = await admin.get<{ items: { type: string; severity: string; affected: unknown[] }[] }>(
      '/v1/alerts?status=active',
    );
    // Assess
    expect(run.status).toBe(200);
    expect(run.body.result).toMatchObject({ found: 1, removed: 0, complete: true });
    const drift = alerts.body.items.filter((a) => a.type === 'assignedOutsideElevate');
    expect(drift).toHaveLength(1);
    expect(drift[0]?.severity).toBe('high');
    expect(drift[0]?.affected).toEqual([
      expect.objectContaining({
        accountId: '333333333333',
        permissionSetArn: LOCAL_PERMISSION_SETS.admin,
        principalType: 'USER',
      }),
    ]);
  });
});
