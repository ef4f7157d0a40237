import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type ApiClient, api, emails, settle, startTestServer } from '#test/support/local.ts';

/**
 * The Requests section of api.md over HTTP, and the seed's PIM test plan: "Require MFA", "Require
 * approval", "Approver receives notification and can approve", "Role expires after preset time".
 */
interface Req {
  id: string;
  status: string;
  assignmentId: string | null;
  schedule: { startDateTime: string; expiration: { endDateTime: string | null } };
}
interface Problem {
  code: string;
  detail: string;
}

let server: LocalServer;
let admin: ApiClient;

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
  admin = api(server).as({ sub: 'admin', mfa: true });
  await admin.put('/v1/principals/approver', { type: 'user', displayName: 'Approver', email: 'approver@example.com' });
  await admin.put('/v1/principals/admin', { type: 'user', displayName: 'Admin', email: 'admin@example.com' });
  for (const [id, approval] of [
    ['ops', false],
    ['prod', true],
  ] as const) {
    await admin.post('/v1/roles', { id, displayName: id.toUpperCase(), privileged: true });
    const policy = defaultPolicy();
    policy.activation.requireTicket = id === 'prod';
    policy.activation.authenticationContext = id === 'prod' ? 'strong' : null;
    if (approval)
      policy.activation.approval = {
        required: true,
        stages: [{ approvers: [{ type: 'user', id: 'approver' }], requiredApprovals: 1, timeout: 'PT8H' }],
      };
    await admin.put(`/v1/roles/${id}/policy`, policy);
    await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'alice',
      roleId: id,
      scope: '/accounts/1',
    });
  }
});
afterAll(async () => {
  await server?.stop();
});

const activation = (roleId: string, extra: Record<string, unknown> = {}) => ({
  action: 'selfActivate',
  assignmentType: 'active',
  roleId,
  scope: '/accounts/1',
  justification: 'INC-42',
  ...extra,
});
const alice = (extra: { mfa?: boolean; acrs?: string[] } = {}) => api(server).as({ sub: 'alice', mfa: true, ...extra });

describe('self activation', () => {
  it('Require MFA: refuses activation without MFA when the policy requires it, and audits the refusal', async () => {
    const res = await alice({ mfa: false }).post<Problem>('/v1/requests', activation('ops'));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MfaRequired');
    const audit = await admin.get<{ items: { details: { code: string } }[] }>(
      '/v1/audit-events?principalId=alice&action=request.refused',
    );
    expect(audit.body.items[0]?.details.code).toBe('MfaRequired');
  });

  it.each([
    ['a justification', { justification: undefined }, 'ops', 'JustificationRequired'],
    [
      'a longer duration than the policy',
      { schedule: { expiration: { type: 'afterDuration', duration: 'PT9H' } } },
      'ops',
      'DurationExceedsPolicy',
    ],
    ['no eligibility at that scope', { scope: '/accounts/2' }, 'ops', 'NotEligible'],
    [
      'no authentication context',
      { ticket: { system: 'jira', number: 'OPS-1' } },
      'prod',
      'AuthenticationContextRequired',
    ],
  ])('refuses an activation with %s', async (_, change, roleId, code) => {
    const res = await alice().post<Problem>('/v1/requests', activation(roleId, change));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(code);
  });

  it('refuses to act for someone else', async () => {
    const res = await alice().post<Problem>('/v1/requests', activation('ops', { principalId: 'bob' }));
    expect(res.status).toBe(403);
  });

  it('validates without writing anything', async () => {
    const res = await alice().post('/v1/requests', activation('ops', { validateOnly: true }));
    expect(res).toMatchObject({ status: 200, body: { valid: true } });
    expect((await alice().get<{ allowed: boolean }>('/v1/access?roleId=ops&scope=/accounts/1')).body.allowed).toBe(
      false,
    );
  });

  it('is in force the moment the API answers, lasts the policy maximum by default, and refuses a second one', async () => {
    const res = await alice().post<Req>('/v1/requests', activation('ops'));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('Granted');
    const check = await alice().get<{ allowed: boolean; assignmentId: string; expiresAt: string }>(
      '/v1/access?roleId=ops&scope=/accounts/1/regions/eu-west-1',
    );
    expect(check.body).toEqual({
      allowed: true,
      assignmentId: res.body.assignmentId,
      expiresAt: '2026-11-26T18:00:00.000Z',
      viaGroup: null,
      provisioning: 'NotRequired',
    });
    const again = await alice().post<Problem>('/v1/requests', activation('ops'));
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('AlreadyActive');
    const mine = await alice().get<{ items: { roleId: string; assignmentType: string; origin: string }[] }>(
      '/v1/me/assignments',
    );
    expect(mine.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ roleId: 'ops', assignmentType: 'active', origin: 'activated' }),
      ]),
    );
    await settle(server);
    expect((await emails(server)).some((m) => m.subject.includes('Privileged role activated: ops'))).toBe(true);
  });

  it('Role expires after preset time', async () => {
    await api(server).post('/_local/clock', { advance: 'PT8H' });
    await settle(server);
    expect((await alice().get<{ allowed: boolean }>('/v1/access?roleId=ops&scope=/accounts/1')).body.allowed).toBe(
      false,
    );
  });
});

describe('approval', () => {
  let id: string;

  it('Require approval: answers 202 PendingApproval and grants nothing yet; AlreadyActive while pending', async () => {
    const res = await alice({ acrs: ['strong'] }).post<Req>(
      '/v1/requests',
      activation('prod', { ticket: { system: 'jira', number: 'OPS-7' } }),
    );
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('PendingApproval');
    id = res.body.id;
    expect((await alice().get<{ allowed: boolean }>('/v1/access?roleId=prod&scope=/accounts/1')).body.allowed).toBe(
      false,
    );
    const again = await alice({ acrs: ['strong'] }).post<Problem>(
      '/v1/requests',
      activation('prod', { ticket: { system: 'jira', number: 'OPS-7' } }),
    );
    expect(again.body.code).toBe('AlreadyActive');
  });

  it('never lets the requester approve, nor someone who is not an approver', async () => {
    expect((await alice().post<Problem>(`/v1/requests/${id}/approve`, {})).body.code).toBe('SelfApprovalForbidden');
    // mallory may not even see the request: the same 404 as for one that does not exist; the admin sees it (403)
    expect((await api(server).as({ sub: 'mallory', mfa: true }).post(`/v1/requests/${id}/approve`, {})).status).toBe(
      404,
    );
    expect((await admin.post<Problem>(`/v1/requests/${id}/approve`, {})).status).toBe(403);
  });

  it('Approver receives notification and can approve', async () => {
    await settle(server);
    const mail = (await emails(server)).find((m) => m.to.includes('approver@example.com'));
    expect(mail?.subject).toContain('Approval needed');
    expect(mail?.text).toContain('INC-42');
    expect(mail?.text).toContain('jira OPS-7');
    const approver = api(server).as({ sub: 'approver', mfa: true });
    const res = await approver.post<Req>(`/v1/requests/${id}/approve`, { justification: 'looks right' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('Granted');
    expect((await alice().get<{ allowed: boolean }>('/v1/access?roleId=prod&scope=/accounts/1')).body.allowed).toBe(
      true,
    );
    expect((await approver.post<Problem>(`/v1/requests/${id}/deny`, {})).body.code).toBe('AlreadyDecided');
    await settle(server);
  });

  it('lets the requester cancel while pending, and not after', async () => {
    await alice().post('/v1/requests', {
      action: 'selfDeactivate',
      assignmentType: 'active',
      roleId: 'prod',
      scope: '/accounts/1',
    });
    const res = await alice({ acrs: ['strong'] }).post<Req>(
      '/v1/requests',
      activation('prod', { ticket: { system: 'jira', number: 'OPS-8' } }),
    );
    expect(
      (await api(server).as({ sub: 'approver', mfa: true }).post(`/v1/requests/${res.body.id}/cancel`, {})).status,
    ).toBe(403);
    const canceled = await alice().post<Req>(`/v1/requests/${res.body.id}/cancel`, {});
    expect(canceled.body.status).toBe('Canceled');
    expect((await alice().post(`/v1/requests/${res.body.id}/cancel`, {})).status).toBe(409);
    expect(
      (await api(server).as({ sub: 'approver', mfa: true }).post(`/v1/requests/${res.body.id}/approve`, {})).status,
    ).toBe(409);
    await settle(server);
  });
});

describe('assignments that change', () => {
  it('extends a time-bound assignment as admin, and renews an ended one', async () => {
    await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'svc',
      principalType: 'servicePrincipal',
      roleId: 'ops',
      justification: 'deploy bot',
      schedule: { expiration: { type: 'afterDuration', duration: 'P1D' } },
    });
    const extended = await admin.post<Req>('/v1/requests', {
      action: 'adminExtend',
      assignmentType: 'active',
      principalId: 'svc',
      principalType: 'servicePrincipal',
      roleId: 'ops',
      justification: 'longer',
      schedule: { expiration: { type: 'afterDuration', duration: 'P7D' } },
    });
    expect(extended.status).toBe(201);
    const permanent = await admin.post<Problem>('/v1/requests', {
      action: 'adminExtend',
      assignmentType: 'active',
      principalId: 'svc',
      principalType: 'servicePrincipal',
      roleId: 'ops',
      justification: 'forever',
      schedule: { expiration: { type: 'noExpiration' } },
    });
    expect(permanent.body.code).toBe('PermanentNotAllowed');
    await api(server).post('/_local/clock', { advance: 'P8D' });
    await settle(server);
    const renewed = await admin.post<Req>('/v1/requests', {
      action: 'adminRenew',
      assignmentType: 'active',
      principalId: 'svc',
      principalType: 'servicePrincipal',
      roleId: 'ops',
      justification: 'renewal',
      schedule: { expiration: { type: 'afterDuration', duration: 'P7D' } },
    });
    expect(renewed.status).toBe(201);
    expect(renewed.body.status).toBe('Granted');
  });

  it('sends a renewal asked for by the holder to the admins for approval', async () => {
    await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'carol',
      roleId: 'ops',
      schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
    });
    const carol = api(server).as({ sub: 'carol', mfa: true });
    const asked = await carol.post<Req>('/v1/requests', {
      action: 'selfExtend',
      assignmentType: 'eligible',
      roleId: 'ops',
      justification: 'project runs longer',
      schedule: { expiration: { type: 'afterDuration', duration: 'P90D' } },
    });
    expect(asked.status).toBe(202);
    const approved = await admin.post<Req>(`/v1/requests/${asked.body.id}/approve`, {});
    expect(approved.body.status).toBe('Granted');
    const mine = await carol.get<{ items: { endDateTime: string }[] }>('/v1/me/assignments');
    expect(mine.body.items[0]?.endDateTime).toBe(asked.body.schedule.expiration.endDateTime);
    await settle(server);
  });
});
