import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy, type RolePolicy } from '#shared/domain/policy.ts';
import { type ApiClient, api, emails, settle, startTestServer } from '#test/support/local.ts';

/**
 * The synthesized state machine, run end to end by the local runtime on the manual clock: approval
 * stages with task tokens, the wait for the start, the grant, the wait for the end, the expiry.
 */
interface Req {
  id: string;
  status: string;
  assignmentId: string | null;
  approval: { stages: { status: string }[] };
}

let server: LocalServer;
let admin: ApiClient;
let roleCount = 0;

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
  admin = api(server).as({ sub: 'admin', mfa: true });
  for (const [id, email] of [
    ['admin', 'admin@example.com'],
    ['alice', 'alice@example.com'],
    ['bob', 'bob@example.com'],
    ['carol', 'carol@example.com'],
  ]) {
    await admin.put(`/v1/principals/${id}`, { type: 'user', displayName: id, email });
  }
});
afterAll(async () => {
  await server?.stop();
});

const as = (sub: string, extra: { groups?: string[]; mfa?: boolean } = {}) =>
  api(server).as({ sub, mfa: true, ...extra });
const alice = () => as('alice');
const advance = async (duration: string) => {
  expect((await api(server).post('/_local/clock', { advance: duration })).status).toBe(200);
  await settle(server);
};

/** A fresh role with `policy` changes, and alice eligible for it. */
async function roleFor(change: (p: RolePolicy) => void = () => {}): Promise<string> {
  const id = `wf-role-${++roleCount}`;
  expect(
    (await admin.post('/v1/roles', { id, displayName: `Workflow role ${roleCount}`, privileged: true })).status,
  ).toBe(201);
  const policy = defaultPolicy();
  change(policy);
  expect((await admin.put(`/v1/roles/${id}/policy`, policy)).status).toBe(200);
  expect(
    (
      await admin.post('/v1/requests', {
        action: 'adminAssign',
        assignmentType: 'eligible',
        principalId: 'alice',
        roleId: id,
      })
    ).status,
  ).toBe(201);
  return id;
}

const approvalBy =
  (...ids: string[]) =>
  (p: RolePolicy) => {
    p.activation.approval = {
      required: true,
      stages: [{ approvers: ids.map((id) => ({ type: 'user' as const, id })), requiredApprovals: 1, timeout: 'PT4H' }],
    };
  };

const activate = (roleId: string, duration = 'PT2H', extra: Record<string, unknown> = {}) =>
  alice().post<Req>('/v1/requests', {
    action: 'selfActivate',
    assignmentType: 'active',
    roleId,
    justification: 'incident INC-42',
    schedule: { expiration: { type: 'afterDuration', duration } },
    ...extra,
  });

const allowed = async (roleId: string) =>
  (await alice().get<{ allowed: boolean }>(`/v1/access?roleId=${roleId}`)).body.allowed;
const request = async (id: string) => (await admin.get<Req>(`/v1/requests/${id}`)).body;

describe('the access workflow', () => {
  it('waits for approval, grants when approved, and expires at the end without anyone acting', async () => {
    const roleId = await roleFor(approvalBy('bob'));
    const asked = await activate(roleId);
    expect(asked.status).toBe(202);
    expect(asked.body.status).toBe('PendingApproval');
    await settle(server);
    expect(await allowed(roleId)).toBe(false);
    const mail = (await emails(server)).find((m) => m.to.includes('bob@example.com') && m.subject.includes(roleId));
    expect(mail?.text).toContain(`elevate approve ${asked.body.id}`);
    expect((await as('bob').get<{ items: Req[] }>('/v1/approvals')).body.items.map((r) => r.id)).toContain(
      asked.body.id,
    );

    const approved = await as('bob').post<Req>(`/v1/requests/${asked.body.id}/approve`, { justification: 'ok' });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('Granted');
    expect(await allowed(roleId)).toBe(true);

    await advance('PT1H59M');
    expect(await allowed(roleId)).toBe(true);
    await advance('PT1M');
    expect(await allowed(roleId)).toBe(false);
    const assignment = await admin.get<{ status: string }>(`/v1/assignments/${approved.body.assignmentId}`);
    expect(assignment.body.status).toBe('Expired');
    const audit = await admin.get<{ items: { action: string; actor: { id: string } }[] }>(
      `/v1/audit-events?roleId=${roleId}&action=assignment.expired`,
    );
    expect(audit.body.items).toEqual([expect.objectContaining({ actor: { id: 'elevate', type: 'system' } })]);
  });

  it('ends at a denial, and frees the role to be asked for again', async () => {
    const roleId = await roleFor(approvalBy('bob'));
    const asked = await activate(roleId);
    await settle(server);
    const denied = await as('bob').post<Req>(`/v1/requests/${asked.body.id}/deny`, { justification: 'not now' });
    expect(denied.body.status).toBe('Denied');
    await settle(server);
    expect(await allowed(roleId)).toBe(false);
    expect(
      (await emails(server)).some((m) => m.to.includes('alice@example.com') && m.subject.includes('was denied')),
    ).toBe(true);
    expect((await activate(roleId)).status).toBe(202);
  });

  it('times out a stage nobody decided', async () => {
    const roleId = await roleFor((p) => {
      approvalBy('bob')(p);
      (p.activation.approval.stages[0] as { timeout: string }).timeout = 'PT1H';
    });
    const asked = await activate(roleId);
    await settle(server);
    await advance('PT1H1M');
    expect((await request(asked.body.id)).status).toBe('TimedOut');
    const late = await as('bob').post(`/v1/requests/${asked.body.id}/approve`, {});
    expect(late.status).toBe(409);
  });

  it('runs two stages in order, the first with a quorum of two', async () => {
    const roleId = await roleFor((p) => {
      p.activation.approval = {
        required: true,
        stages: [
          {
            approvers: [
              { type: 'user', id: 'bob' },
              { type: 'user', id: 'carol' },
            ],
            requiredApprovals: 2,
            timeout: 'PT4H',
          },
          { approvers: [{ type: 'group', id: 'security' }], requiredApprovals: 1, timeout: 'PT4H' },
        ],
      };
    });
    const asked = await activate(roleId);
    await settle(server);
    expect((await as('dave', { groups: ['security'] }).post(`/v1/requests/${asked.body.id}/approve`, {})).status).toBe(
      403,
    );
    expect((await as('bob').post<Req>(`/v1/requests/${asked.body.id}/approve`, {})).body.status).toBe(
      'PendingApproval',
    );
    const second = await as('carol').post<Req>(`/v1/requests/${asked.body.id}/approve`, {});
    expect(second.body.approval.stages.map((s) => s.status)).toEqual(['Approved', 'Pending']);
    await settle(server);
    expect(await allowed(roleId)).toBe(false);
    const last = await as('dave', { groups: ['security'] }).post<Req>(`/v1/requests/${asked.body.id}/approve`, {});
    expect(last.body.status).toBe('Granted');
    expect(await allowed(roleId)).toBe(true);
    await settle(server);
  });

  it('lets an extension move the expiry', async () => {
    const roleId = await roleFor();
    const first = await activate(roleId, 'PT1H');
    expect(first.body.status).toBe('Granted');
    await advance('PT50M');
    const extended = await alice().post<Req>('/v1/requests', {
      action: 'selfExtend',
      assignmentType: 'active',
      roleId,
      justification: 'still fixing',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(extended.status).toBe(201);
    await advance('PT15M');
    expect(await allowed(roleId)).toBe(true);
    await advance('PT45M');
    expect(await allowed(roleId)).toBe(false);
    expect(
      (await admin.get<{ status: string; extensions: number }>(`/v1/assignments/${first.body.assignmentId}`)).body,
    ).toMatchObject({ status: 'Expired', extensions: 1 });
    const again = await alice().post('/v1/requests', {
      action: 'selfExtend',
      assignmentType: 'active',
      roleId,
      justification: 'x',
    });
    expect(again.status).toBe(404);
  });

  it('ends access at deactivation, and the workflow then expires nothing', async () => {
    const roleId = await roleFor();
    const first = await activate(roleId, 'PT1H');
    const off = await alice().post<Req>('/v1/requests', { action: 'selfDeactivate', assignmentType: 'active', roleId });
    expect(off.status).toBe(201);
    expect(off.body.status).toBe('Revoked');
    expect(await allowed(roleId)).toBe(false);
    await advance('PT2H');
    expect((await admin.get<{ status: string }>(`/v1/assignments/${first.body.assignmentId}`)).body.status).toBe(
      'Revoked',
    );
  });

  it('does not grant at a scheduled start when the eligibility was removed meanwhile', async () => {
    const roleId = await roleFor();
    const start = new Date(server.clock.now().getTime() + 3_600_000).toISOString();
    const asked = await activate(roleId, 'PT1H', {
      schedule: { startDateTime: start, expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(asked.status).toBe(201);
    expect(asked.body.status).toBe('Scheduled');
    await admin.post('/v1/requests', {
      action: 'adminRemove',
      assignmentType: 'eligible',
      principalId: 'alice',
      roleId,
    });
    await advance('PT1H1M');
    expect((await request(asked.body.id)).status).toBe('Failed');
    expect(await allowed(roleId)).toBe(false);
  });

  it('resolves concurrent decisions on one request to exactly one outcome', async () => {
    const roleId = await roleFor(approvalBy('bob', 'carol'));
    const asked = await activate(roleId);
    await settle(server);
    const [a, b] = await Promise.all([
      as('bob').post<Req>(`/v1/requests/${asked.body.id}/approve`, {}),
      as('carol').post<Req>(`/v1/requests/${asked.body.id}/deny`, {}),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const final = await request(asked.body.id);
    expect(['Granted', 'Denied']).toContain(final.status);
    expect(await allowed(roleId)).toBe(final.status === 'Granted');
    await settle(server);
  });

  it('takes five state transitions for an activation without approval and ten with one stage', async () => {
    const open = await roleFor();
    const gated = await roleFor(approvalBy('bob'));
    const direct = await activate(open, 'PT1H');
    const asked = await activate(gated, 'PT1H');
    await settle(server);
    await as('bob').post(`/v1/requests/${asked.body.id}/approve`, {});
    await advance('PT2H');
    expect(server.statesEntered(direct.body.id)).toEqual(['Phase', 'WaitForEnd', 'Expire', 'Expired?', 'Ended']);
    expect(server.statesEntered(asked.body.id)).toEqual([
      'Phase',
      'AwaitApproval',
      'NextStage?',
      'WaitForStart',
      'Grant',
      'Granted?',
      'WaitForEnd',
      'Expire',
      'Expired?',
      'Ended',
    ]);
  });

  it('resolves parallel activations of one eligibility to exactly one, and replays a retried one', async () => {
    const roleId = await roleFor();
    const results = await Promise.all(Array.from({ length: 6 }, () => activate(roleId, 'PT1H')));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    const mine = await alice().get<{ items: { roleId: string; assignmentType: string }[] }>('/v1/me/assignments');
    expect(mine.body.items.filter((a) => a.roleId === roleId && a.assignmentType === 'active')).toHaveLength(1);

    const other = await roleFor();
    const headers = { 'idempotency-key': `activate-${other}` };
    const body = { action: 'selfActivate', assignmentType: 'active', roleId: other, justification: 'x' };
    const first = await alice().post<Req>('/v1/requests', body, headers);
    const retry = await alice().post<Req>('/v1/requests', body, headers);
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    await settle(server);
  });
});

/** AWS limits the local runtime imposes (see infra/local/stepfunctions/runner.ts), and what the workflow does about them. */
describe('the access workflow within the limits of Step Functions', () => {
  const setClock = async (at: Date) => {
    expect((await api(server).post('/_local/clock', { set: at.toISOString() })).status).toBe(200);
    await settle(server);
  };
  const auditOf = async (roleId: string, action: string) =>
    (
      await admin.get<{ items: { action: string; actor: { id: string } }[] }>(
        `/v1/audit-events?roleId=${roleId}&action=${action}`,
      )
    ).body.items;

  it('retries a Grant the Lambda service throttled, and grants at the start', async () => {
    // Prepare
    const roleId = await roleFor();
    const start = new Date(server.clock.now().getTime() + 3_600_000).toISOString();
    const asked = await activate(roleId, 'PT1H', {
      schedule: { startDateTime: start, expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(asked.body.status).toBe('Scheduled');
    const throttle = server.refuseWorkflowInvokes({
      matching: `"kind":"grant","requestId":"${asked.body.id}"`,
      times: 1,
      error: 'Lambda.TooManyRequestsException',
    });

    // Act
    await advance('PT1H');

    // Assess
    expect(throttle.refused).toBe(1);
    expect((await request(asked.body.id)).status).toBe('Granted');
    expect(await allowed(roleId)).toBe(true);
    expect(server.statesEntered(asked.body.id)).toEqual(['Phase', 'WaitForStart', 'Grant', 'Granted?', 'WaitForEnd']);
    await advance('PT1H');
    expect(await allowed(roleId)).toBe(false);
  });

  it('expires at an end that is not on a whole second, once, though Step Functions truncates waits to the second', async () => {
    // Prepare: the clock (and so the end) half a second past a whole second
    const roleId = await roleFor();
    await setClock(new Date(Math.ceil(server.clock.now().getTime() / 1000) * 1000 + 500));
    const asked = await activate(roleId, 'PT1H');
    const end = Date.parse(
      (await admin.get<{ endDateTime: string }>(`/v1/assignments/${asked.body.assignmentId}`)).body.endDateTime,
    );
    expect(end % 1000).toBe(500);

    // Act: the second the end falls in (where a truncated wait ends), then the next whole second
    await setClock(new Date(end - 500));
    const before = await allowed(roleId);
    await setClock(new Date(end + 500));

    // Assess
    expect(before).toBe(true);
    expect(await allowed(roleId)).toBe(false);
    expect(server.statesEntered(asked.body.id)).toEqual(['Phase', 'WaitForEnd', 'Expire', 'Expired?', 'Ended']);
  });

  it('expires a P365D eligibility that starts tomorrow, carrying the wait on in a new execution', async () => {
    // Prepare: the run's last test (it moves the clock more than a year)
    const roleId = `wf-role-${++roleCount}`;
    expect(
      (await admin.post('/v1/roles', { id: roleId, displayName: 'A year of eligibility', privileged: false })).status,
    ).toBe(201);
    const start = new Date(server.clock.now().getTime() + 86_400_000);
    const end = new Date(start.getTime() + 365 * 86_400_000);
    const assigned = await admin.post<Req>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'carol',
      roleId,
      justification: 'a year of on-call',
      schedule: { startDateTime: start.toISOString(), expiration: { type: 'afterDuration', duration: 'P365D' } },
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    const assignment = `/v1/assignments/${assigned.body.assignmentId}`;

    // Act: the start, the first execution's horizon (300 days), then ten minutes past the end
    await advance('P1D');
    const started = (await admin.get<{ status: string }>(assignment)).body.status;
    await advance('P300D');
    await setClock(new Date(end.getTime() + 600_000));

    // Assess: the workflow expired it at its end (no false expiryMissed from the reconcile job)
    expect(started).toBe('Active');
    expect((await admin.get<{ status: string; endDateTime: string }>(assignment)).body).toMatchObject({
      status: 'Expired',
      endDateTime: end.toISOString(),
    });
    expect(await auditOf(roleId, 'assignment.expired')).toEqual([
      expect.objectContaining({ actor: { id: 'elevate', type: 'system' } }),
    ]);
    expect(await auditOf(roleId, 'alert.expiryMissed')).toEqual([]);
    expect(server.statesEntered(assigned.body.id).slice(-3)).toEqual(['WaitForHorizon', 'Continue', 'Continued']);
    expect(server.statesEntered(`${assigned.body.id}-1`)).toEqual([
      'Phase',
      'WaitForEnd',
      'Expire',
      'Expired?',
      'Ended',
    ]);
  });
});
