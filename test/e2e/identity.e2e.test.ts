import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type AnonymousApiClient, type ApiClient, api, emails, settle, startTestServer } from '#test/support/local.ts';

/**
 * Identity attacks over HTTP (issue 11, items 2-4): group claims read from the verified token exactly, users and
 * groups never sharing an id space, and reviewers never deciding access they hold themselves through a group.
 */
interface Problem {
  code: string;
}
interface Page<T> {
  items: T[];
}
interface DecisionItem {
  id: string;
  principalId: string;
  principalType: string;
}

let server: LocalServer;
let anonymous: AnonymousApiClient;
let admin: ApiClient;
let n = 0;

const as = (sub: string, extra: { groups?: string[]; email?: string; name?: string } = {}) =>
  anonymous.as({ sub, mfa: true, ...extra });

const assign = async (body: Record<string, unknown>) => {
  const res = await admin.post<{ assignmentId: string }>('/v1/requests', {
    action: 'adminAssign',
    justification: 'set up',
    ...body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
  anonymous = api(server);
  admin = as('admin');
});
afterAll(async () => {
  await server?.stop();
});

describe('group approvers are matched on the exact group names of the token', () => {
  /** A role whose one approval stage is the group `approverGroup`, and a fresh request of it waiting there. */
  async function pending(approverGroup: string): Promise<string> {
    const roleId = `gated-${++n}`;
    expect((await admin.post('/v1/roles', { id: roleId, displayName: 'Gated', privileged: true })).status).toBe(201);
    const policy = defaultPolicy();
    policy.activation.approval = {
      required: true,
      stages: [{ approvers: [{ type: 'group', id: approverGroup }], requiredApprovals: 1, timeout: 'PT4H' }],
    };
    expect((await admin.put(`/v1/roles/${roleId}/policy`, policy)).status).toBe(200);
    const asker = `asker-${n}`;
    await assign({ assignmentType: 'eligible', principalId: asker, roleId });
    const asked = await as(asker).post<{ id: string }>('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId,
      justification: 'INC-1',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    return asked.body.id;
  }

  const impostors: string[][] = [
    ['Not approvers'],
    ['wannabe,approvers'],
    ['[approvers]'],
    ['"approvers"'],
    ['["approvers"]'],
    ['approvers x', 'y'],
    ['a b', 'c,approvers,d'],
    ['Approvers'],
  ];
  for (const groups of impostors) {
    it(`refuses a member of ${JSON.stringify(groups)} as an approver of group "approvers"`, async () => {
      const id = await pending('approvers');
      const res = await as(`impostor-${n}`, { groups }).post<Problem>(`/v1/requests/${id}/approve`, {
        justification: 'looks fine',
      });
      // Not an approver of any stage, so not one who may see it: the 404 of a request that does not exist.
      expect(res.status, JSON.stringify(res.body)).toBe(404);
      expect(res.body.code).toBe('NotFound');
      const approvals = await as(`impostor-${n}`, { groups }).get<Page<{ id: string }>>('/v1/approvals');
      expect(approvals.body.items.map((r) => r.id)).not.toContain(id);
      const read = await admin.get<{ status: string }>(`/v1/requests/${id}`);
      expect(read.body.status).toBe('PendingApproval');
    });
  }

  it('lets a member of exactly "approvers" approve (among groups with spaces, commas and quotes)', async () => {
    const id = await pending('approvers');
    const member = as(`member-${n}`, { groups: ['Not approvers', 'approvers', 'x "y", z'] });
    expect((await member.get<Page<{ id: string }>>('/v1/approvals')).body.items.map((r) => r.id)).toContain(id);
    const res = await member.post<{ status: string }>(`/v1/requests/${id}/approve`, { justification: 'ok' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('Granted');
  });

  for (const group of ['wannabe,approvers', '[ops]', '"quoted"', 'a,b]', '["x","y"]']) {
    it(`matches the group ${JSON.stringify(group)} only to a member of exactly that name`, async () => {
      const id = await pending(group);
      const parts = group.split(/[\s,[\]"]+/).filter(Boolean);
      const partial = await as(`parts-${n}`, { groups: parts }).post<Problem>(`/v1/requests/${id}/approve`, {
        justification: 'parts',
      });
      expect(partial.status, JSON.stringify(partial.body)).toBe(404);
      const member = await as(`exact-${n}`, { groups: ['other group', group] }).post<{ status: string }>(
        `/v1/requests/${id}/approve`,
        { justification: 'exact' },
      );
      expect(member.status, JSON.stringify(member.body)).toBe(200);
      expect(member.body.status).toBe('Granted');
    });
  }
});

describe('a user whose sub equals an Elevate group id is not that group', () => {
  beforeAll(async () => {
    expect((await admin.post('/v1/groups', { id: 'dbas', displayName: 'DBAs' })).status).toBe(201);
    expect((await admin.post('/v1/groups', { id: 'platform', displayName: 'Platform' })).status).toBe(201);
    await assign({
      assignmentType: 'active',
      principalId: 'dbas',
      principalType: 'group',
      roleId: 'elevate-auditor',
      justification: 'the DBAs audit',
    });
    await assign({
      assignmentType: 'active',
      principalId: 'platform',
      principalType: 'group',
      roleId: 'elevate-admin',
      justification: 'the platform team administers',
    });
    expect((await admin.post('/v1/roles', { id: 'db-read', displayName: 'DB read', privileged: false })).status).toBe(
      201,
    );
    await assign({ assignmentType: 'active', principalId: 'dbas', principalType: 'group', roleId: 'db-read' });
    await assign({ assignmentType: 'eligible', principalId: 'dbas', principalType: 'group', roleId: 'db-read' });
  });

  it("does not give the group's auditor role to a user token with sub 'dbas'", async () => {
    const res = await as('dbas').get<Problem>('/v1/audit-events');
    expect(res.status, JSON.stringify(res.body)).toBe(403);
  });

  it("does not give the group's admin role to a user token with sub 'platform'", async () => {
    const res = await as('platform').post<Problem>('/v1/roles', {
      id: 'made-by-sub',
      displayName: 'x',
      privileged: false,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(403);
  });

  it('answers the access check for the user, not the group of the same id', async () => {
    const own = await as('dbas').get<{ allowed: boolean }>('/v1/access?roleId=db-read');
    expect(own.body.allowed).toBe(false);
    const user = await admin.get<{ allowed: boolean }>('/v1/access?principalId=dbas&roleId=db-read');
    expect(user.body.allowed).toBe(false);
    const group = await admin.get<{ allowed: boolean }>(
      '/v1/access?principalId=dbas&principalType=group&roleId=db-read',
    );
    expect(group.status, JSON.stringify(group.body)).toBe(200);
    expect(group.body.allowed).toBe(true);
  });

  it("shows a user token none of the group's assignments as its own, nor lets it activate them", async () => {
    const mine = await as('dbas').get<Page<{ principalType: string }>>('/v1/me/assignments');
    expect(mine.body.items).toEqual([]);
    const activate = await as('dbas').post<Problem>('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'db-read',
      justification: 'INC-2',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(activate.status, JSON.stringify(activate.body)).toBe(400);
    expect(activate.body.code).toBe('NotEligible');
  });

  it("never lets a user token's claims overwrite the group's profile (its e-mail gets the approval mail)", async () => {
    const put = await admin.put('/v1/principals/dbas', {
      type: 'group',
      displayName: 'DBAs',
      email: 'dbas@corp.example',
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    // The attacker's token: sub dbas, its own e-mail and name.
    // A call that may change something records the caller's claims (a GET never does): here a cancel of nothing.
    const attacker = as('dbas', { email: 'attacker@evil.example', name: 'Mallory' });
    await attacker.post('/v1/requests/req_missing/cancel', {});
    const group = await admin.get<{ email: string; type: string }>('/v1/principals/dbas?principalType=group');
    expect(group.body).toMatchObject({ type: 'group', email: 'dbas@corp.example' });
    const user = await admin.get<{ email: string; type: string }>('/v1/principals/dbas');
    expect(user.body).toMatchObject({ type: 'user', email: 'attacker@evil.example' });

    await admin.post('/v1/roles', { id: 'dba-gated', displayName: 'DBA gated', privileged: true });
    const policy = defaultPolicy();
    policy.activation.approval = {
      required: true,
      stages: [{ approvers: [{ type: 'group', id: 'dbas' }], requiredApprovals: 1, timeout: 'PT4H' }],
    };
    await admin.put('/v1/roles/dba-gated/policy', policy);
    await assign({ assignmentType: 'eligible', principalId: 'dba-asker', roleId: 'dba-gated' });
    const asked = await as('dba-asker').post('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'dba-gated',
      justification: 'INC-3',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(asked.status).toBe(202);
    await settle(server);
    const sent = (await emails(server)).filter((m) => /approval/i.test(m.subject));
    expect(sent.flatMap((m) => m.to)).toContain('dbas@corp.example');
    expect(sent.flatMap((m) => m.to)).not.toContain('attacker@evil.example');
  });
});

describe('a reviewer never decides access they hold through a group', () => {
  let decisionsPath: (reviewers: unknown) => Promise<{ path: string; items: DecisionItem[] }>;

  beforeAll(async () => {
    expect((await admin.post('/v1/groups', { id: 'ops-team', displayName: 'Ops' })).status).toBe(201);
    expect((await admin.post('/v1/roles', { id: 'rv-role', displayName: 'Reviewed', privileged: false })).status).toBe(
      201,
    );
    // rita is an Elevate member of ops-team; the group holds rv-role; sam holds rv-role himself.
    await assign({ assignmentType: 'active', principalId: 'rita', roleId: 'group-ops-team-member' });
    await assign({ assignmentType: 'eligible', principalId: 'ops-team', principalType: 'group', roleId: 'rv-role' });
    await assign({ assignmentType: 'eligible', principalId: 'sam', roleId: 'rv-role' });
    decisionsPath = async (reviewers) => {
      const review = await admin.post<{ id: string }>('/v1/access-reviews', {
        displayName: `review ${++n}`,
        scope: { roleIds: ['rv-role'] },
        reviewers,
        requireJustification: false,
        recurrence: { type: 'once', startDateTime: server.clock.now().toISOString() },
      });
      expect(review.status, JSON.stringify(review.body)).toBe(201);
      expect((await anonymous.post('/_local/schedules/reviews/run')).status).toBe(200);
      await settle(server);
      const instances = await admin.get<Page<{ id: string }>>(`/v1/access-reviews/${review.body.id}/instances`);
      const path = `/v1/access-reviews/${review.body.id}/instances/${instances.body.items[0]?.id}/decisions`;
      const items = await admin.get<Page<DecisionItem>>(path);
      expect(items.body.items.length).toBe(2);
      return { path, items: items.body.items };
    };
  });

  const groupItem = (items: DecisionItem[]) => items.find((d) => d.principalId === 'ops-team') as DecisionItem;

  it('refuses an Elevate member of the group deciding the group item as a named reviewer', async () => {
    const { path, items } = await decisionsPath({
      type: 'principals',
      principals: [{ type: 'user', id: 'rita' }],
    });
    const rita = as('rita');
    const res = await rita.post<Problem>(`${path}/${groupItem(items).id}`, { decision: 'Approve' });
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.code).toBe('SelfApprovalForbidden');
    const queue = await rita.get<Page<DecisionItem>>('/v1/me/reviews');
    expect(queue.body.items.map((d) => d.principalId)).not.toContain('ops-team');
    const listed = await rita.get<Page<DecisionItem>>(path);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.items.map((d) => d.principalId)).not.toContain('ops-team');
    // sam's item is not hers: she decides it.
    const other = items.find((d) => d.principalId === 'sam') as DecisionItem;
    expect((await rita.post(`${path}/${other.id}`, { decision: 'Approve' })).status).toBe(200);
  });

  it('refuses a member of an identity-provider group of the same name as a named reviewer', async () => {
    const { path, items } = await decisionsPath({
      type: 'principals',
      principals: [{ type: 'user', id: 'ruth' }],
    });
    const res = await as('ruth', { groups: ['ops-team'] }).post<Problem>(`${path}/${groupItem(items).id}`, {
      decision: 'Approve',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.code).toBe('SelfApprovalForbidden');
  });

  it("in a self-review, lets nobody decide a group's item through a group, and a user their own item", async () => {
    const { path, items } = await decisionsPath({ type: 'self' });
    const viaIdp = await as('sam', { groups: ['ops-team'] }).post<Problem>(`${path}/${groupItem(items).id}`, {
      decision: 'Approve',
    });
    expect(viaIdp.status, JSON.stringify(viaIdp.body)).toBe(403);
    const viaElevate = await as('rita').post<Problem>(`${path}/${groupItem(items).id}`, { decision: 'Approve' });
    expect(viaElevate.status, JSON.stringify(viaElevate.body)).toBe(403);
    const own = items.find((d) => d.principalId === 'sam') as DecisionItem;
    expect((await as('sam', { groups: ['ops-team'] }).post(`${path}/${own.id}`, { decision: 'Approve' })).status).toBe(
      200,
    );
  });
});
