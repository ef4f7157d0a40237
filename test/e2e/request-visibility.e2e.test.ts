import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type ApiClient, api, startTestServer } from '#test/support/local.ts';

/**
 * Issue 11 items 8 and 9, over HTTP: refused decisions are audited, authority is checked before validation,
 * and a request's existence is hidden from whoever may not see it (the same 404 from every route of it).
 */
interface Problem {
  code: string;
  detail: string;
  status: number;
  title: string;
  type: string;
}
interface AuditPage {
  items: {
    action: string;
    actor: { id: string };
    target: { requestId: string | null };
    details: Record<string, unknown>;
  }[];
}

let server: LocalServer;
let admin: ApiClient;
const as = (sub: string) => api(server).as({ sub, mfa: true });
const audit = async (query: string) => (await admin.get<AuditPage>(`/v1/audit-events?${query}`)).body.items;
const NO_SUCH = 'req_01J00000000000000000000000';

/** alice asks for db-gated: stage 1 is bob's, stage 2 is carol's. */
let scopes = 0;
async function pending(): Promise<string> {
  const res = await as('alice').post<{ id: string; status: string }>('/v1/requests', {
    action: 'selfActivate',
    assignmentType: 'active',
    roleId: 'db-gated',
    scope: `/accounts/${++scopes}`,
    justification: 'INC-7',
    schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id;
}

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
  admin = as('admin');
  await admin.post('/v1/roles', { id: 'db-gated', displayName: 'Gated', privileged: true });
  const policy = defaultPolicy();
  policy.activation.maxExtensions = 0;
  policy.activation.approval = {
    required: true,
    stages: [
      { approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT8H' },
      { approvers: [{ type: 'user', id: 'carol' }], requiredApprovals: 1, timeout: 'PT8H' },
    ],
  };
  expect((await admin.put('/v1/roles/db-gated/policy', policy)).status).toBe(200);
  expect(
    (
      await admin.post('/v1/requests', {
        action: 'adminAssign',
        assignmentType: 'eligible',
        principalId: 'alice',
        roleId: 'db-gated',
      })
    ).status,
  ).toBe(201);
  const auditor = await admin.post('/v1/requests', {
    action: 'adminAssign',
    assignmentType: 'active',
    principalId: 'auditor-1',
    roleId: 'elevate-auditor',
    justification: 'audit',
    schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
  });
  expect(auditor.status).toBe(201);
});
afterAll(async () => {
  await server?.stop();
});

describe('who may see a request (item 9)', () => {
  it('answers a stranger the same 404 from every route of a request as for one that does not exist', async () => {
    // Prepare
    const id = await pending();
    const eve = as('eve');
    const calls = async (target: string) => [
      await eve.get<Problem>(`/v1/requests/${target}`),
      await eve.post<Problem>(`/v1/requests/${target}/cancel`),
      await eve.post<Problem>(`/v1/requests/${target}/approve`, { justification: 'x' }),
      await eve.post<Problem>(`/v1/requests/${target}/deny`, { justification: 'x' }),
    ];

    // Act
    const real = await calls(id);
    const none = await calls(NO_SUCH);

    // Assess
    for (const [i, res] of real.entries()) {
      expect(res.status).toBe(404);
      const other = none[i] as (typeof none)[number];
      expect({ ...res.body, detail: res.body.detail.replace(id, 'X') }).toEqual({
        ...other.body,
        detail: other.body.detail.replace(NO_SUCH, 'X'),
      });
    }
    expect((await admin.get<{ status: string }>(`/v1/requests/${id}`)).body.status).toBe('PendingApproval');
  });

  it('lets every approver of any stage see the request; one who may see but not decide now gets 403', async () => {
    // Prepare
    const id = await pending();

    // Act
    const carolSees = await as('carol').get<{ id: string }>(`/v1/requests/${id}`);
    const carolEarly = await as('carol').post<Problem>(`/v1/requests/${id}/approve`, { justification: 'early' });
    const auditorDecides = await as('auditor-1').post<Problem>(`/v1/requests/${id}/approve`, { justification: 'x' });
    const bobCancels = await as('bob').post<Problem>(`/v1/requests/${id}/cancel`);
    const aliceApproves = await as('alice').post<Problem>(`/v1/requests/${id}/approve`, { justification: 'me' });

    // Assess
    expect(carolSees.status).toBe(200);
    expect([carolEarly.status, carolEarly.body.code]).toEqual([403, 'Forbidden']);
    expect([auditorDecides.status, auditorDecides.body.code]).toEqual([403, 'Forbidden']);
    expect([bobCancels.status, bobCancels.body.code]).toEqual([403, 'Forbidden']);
    expect([aliceApproves.status, aliceApproves.body.code]).toEqual([403, 'SelfApprovalForbidden']);
    expect((await as('bob').post(`/v1/requests/${id}/approve`, { justification: 'ok' })).status).toBe(200);
    expect((await as('carol').post(`/v1/requests/${id}/approve`, { justification: 'ok' })).status).toBe(200);
  });
});

describe('refused decisions are audited (item 8)', () => {
  it('writes authorization.refused for a self-approval and for a caller who is not an approver of the stage', async () => {
    // Prepare
    const id = await pending();

    // Act
    const self = await as('alice').post<Problem>(`/v1/requests/${id}/deny`, { justification: 'me' });
    const early = await as('carol').post<Problem>(`/v1/requests/${id}/approve`, { justification: 'early' });
    const stranger = await as('eve').post<Problem>(`/v1/requests/${id}/approve`, { justification: 'x' });

    // Assess
    expect([self.status, early.status, stranger.status]).toEqual([403, 403, 404]);
    const refused = (await audit('action=authorization.refused')).filter((e) => e.target.requestId === id);
    expect(refused.map((e) => [e.actor.id, e.details.operationId, e.details.code]).sort()).toEqual([
      ['alice', 'denyRequest', 'SelfApprovalForbidden'],
      ['carol', 'approveRequest', 'Forbidden'],
      ['eve', 'approveRequest', 'NotFound'],
    ]);
  });

  it('checks authority before validation: a non-admin’s malformed admin call is a 403, audited', async () => {
    // Act
    const policy = await as('eve').put<Problem>('/v1/roles/db-gated/policy', { activation: 'nonsense' });
    const role = await as('eve').post<Problem>('/v1/roles', { id: '!!', privileged: 'yes' });
    const assign = await as('eve').post<Problem>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'sometimes',
      principalId: 'eve',
      roleId: 'elevate-admin',
    });

    // Assess
    expect([policy.status, policy.body.code]).toEqual([403, 'Forbidden']);
    expect([role.status, role.body.code]).toEqual([403, 'Forbidden']);
    expect([assign.status, assign.body.code]).toEqual([403, 'Forbidden']);
    const refused = await audit('actorId=eve');
    const ops = refused.map((e) => `${e.action}:${e.details.operationId ?? e.details.action}`);
    expect(ops).toEqual(
      expect.arrayContaining(['authorization.refused:putPolicy', 'authorization.refused:createRole']),
    );
    expect(ops.some((o) => o.endsWith(':adminAssign'))).toBe(true);
  });
});
