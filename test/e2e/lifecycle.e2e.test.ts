/**
 * Lifecycle holes, over HTTP against the local runtime (the synthesized workflow on a manual clock):
 * - issue 12 item 4: moving a scheduled start never fires the old one;
 * - issue 12 item 16: an activation's duration counts from its grant; the eligibility mail says "eligible";
 * - issue 11 item 13: selfRenew of a role never held, and a group as the principal of a self action;
 * - issue 11 item 14: starts within the policy's maxScheduleAhead, no date after 9999-12-31 stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type ApiClient, api, emails, events, settle, startTestServer } from '#test/support/local.ts';

interface Req {
  id: string;
  status: string;
  assignmentId: string | null;
  schedule: { startDateTime: string; expiration: { endDateTime: string | null; duration: string | null } };
}
interface Assignment {
  id: string;
  status: string;
  startDateTime: string;
  endDateTime: string | null;
  requestId: string;
}
interface Problem {
  code: string;
  detail: string;
  errors?: { path: string; message: string }[];
}

const START = new Date('2026-06-01T08:00:00Z');
const HOUR = 3_600_000;
let server: LocalServer;
let admin: ApiClient;

const now = async () => Date.parse((await api(server).get<{ now: string }>('/_local/clock')).body.now);
const advance = async (duration: string) => {
  expect((await api(server).post('/_local/clock', { advance: duration })).status).toBe(200);
  await settle(server);
};
const user = (sub: string) => api(server).as({ sub, email: `${sub}@example.com`, mfa: true });

beforeAll(async () => {
  server = await startTestServer({ clockStart: START });
  admin = api(server).as({ sub: 'admin', mfa: true });
  for (const [id, gated] of [
    ['ops', false],
    ['gated', true],
  ] as const) {
    expect((await admin.post('/v1/roles', { id, displayName: id.toUpperCase(), privileged: false })).status).toBe(201);
    const policy = defaultPolicy();
    if (gated) {
      policy.activation.approval = {
        required: true,
        stages: [{ approvers: [{ type: 'user', id: 'approver' }], requiredApprovals: 1, timeout: 'PT24H' }],
      };
    }
    expect((await admin.put(`/v1/roles/${id}/policy`, policy)).status).toBe(200);
  }
});
afterAll(async () => {
  await server?.stop();
});

describe('moving a scheduled start (issue 12, item 4)', () => {
  it('supersedes the old request and stops its execution: nothing fires at the old start, once at the new', async () => {
    // Prepare: bob's active assignment starts in 2 hours.
    const t0 = await now();
    const assigned = await admin.post<Req>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'bob',
      roleId: 'ops',
      justification: 'maintenance window',
      schedule: {
        startDateTime: new Date(t0 + 2 * HOUR).toISOString(),
        expiration: { type: 'afterDuration', duration: 'PT4H' },
      },
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    expect(assigned.body.status).toBe('Scheduled');
    await settle(server);

    // Act: the window moves 3 hours later.
    const moved = await admin.post<Req>('/v1/requests', {
      action: 'adminUpdate',
      assignmentType: 'active',
      principalId: 'bob',
      roleId: 'ops',
      justification: 'window moved',
      schedule: {
        startDateTime: new Date(t0 + 5 * HOUR).toISOString(),
        expiration: { type: 'afterDuration', duration: 'PT4H' },
      },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(201);
    expect(moved.body.status).toBe('Scheduled');
    await settle(server);

    // Assess: the old start passes with nothing granted, no event, no mail.
    const activatedOf = async (id: string | null) =>
      (await events(server)).filter(
        (e) =>
          e.detailType === 'elevate.assignment.activated' &&
          (e.detail as { assignment: { id: string } }).assignment.id === id,
      );
    await advance('PT3H');
    expect((await admin.get<Req>(`/v1/requests/${assigned.body.id}`)).body.status).toBe('Canceled');
    expect((await admin.get<Assignment>(`/v1/assignments/${assigned.body.assignmentId}`)).body.status).toBe(
      'Scheduled',
    );
    expect(await activatedOf(assigned.body.assignmentId)).toHaveLength(0);
    const started = await admin.get<{ items: unknown[] }>('/v1/audit-events?principalId=bob&action=assignment.started');
    expect(started.body.items).toHaveLength(0);
    expect((await user('bob').get<{ allowed: boolean }>('/v1/access?roleId=ops')).body.allowed).toBe(false);
    const superseded = await admin.get<{ items: { details: { supersededBy: string } }[] }>(
      '/v1/audit-events?principalId=bob&action=request.superseded',
    );
    expect(superseded.body.items[0]?.details.supersededBy).toBe(moved.body.id);

    // ... and the new start grants it, once.
    await advance('PT2H1M');
    const a = await admin.get<Assignment>(`/v1/assignments/${assigned.body.assignmentId}`);
    expect(a.body.status).toBe('Active');
    expect(a.body.requestId).toBe(moved.body.id);
    expect(await activatedOf(assigned.body.assignmentId)).toHaveLength(1);
    expect((await user('bob').get<{ allowed: boolean }>('/v1/access?roleId=ops')).body.allowed).toBe(true);
  });
});

describe('an activation counts its time from its grant (issue 12, item 16)', () => {
  it('tells the eligible principal it is eligible, not active', async () => {
    const assigned = await admin.post<Req>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'carol',
      roleId: 'gated',
    });
    expect(assigned.status).toBe(201);
    // records carol's e-mail from her token (a call that may change something; a GET records nothing)
    await user('carol').post('/v1/requests/req_missing/cancel', {});
    await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'carol',
      roleId: 'ops',
    });
    await settle(server);
    const mail = (await emails(server)).filter((m) => m.to.includes('carol@example.com'));
    expect(mail.map((m) => m.subject)).toContain('You are eligible for ops');
    expect(mail.some((m) => /is active/.test(m.subject))).toBe(false);
  });

  it('gives the full asked duration from an approval that comes after the old end, never 0 s', async () => {
    // Prepare: carol asks for 1 hour; the approver answers 2 hours later.
    const asked = await user('carol').post<Req>('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'gated',
      justification: 'INC-7',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    await settle(server);
    await advance('PT2H');

    // Act
    const approvedAt = await now();
    const approved = await api(server)
      .as({ sub: 'approver', mfa: true })
      .post<Req>(`/v1/requests/${asked.body.id}/approve`, { justification: 'ok' });
    await settle(server);

    // Assess
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('Granted');
    expect(approved.body.schedule.expiration.duration).toBe('PT1H');
    expect(approved.body.schedule.expiration.endDateTime).toBe(new Date(approvedAt + HOUR).toISOString());
    const a = await admin.get<Assignment>(`/v1/assignments/${approved.body.assignmentId}`);
    expect(Date.parse(a.body.startDateTime)).toBe(approvedAt);
    expect(Date.parse(a.body.endDateTime as string)).toBe(approvedAt + HOUR);
    expect((await user('carol').get<{ allowed: boolean }>('/v1/access?roleId=gated')).body.allowed).toBe(true);
    const expired = (await events(server)).filter(
      (e) =>
        e.detailType === 'elevate.assignment.expired' &&
        (e.detail as { assignment: { id: string } }).assignment.id === a.body.id,
    );
    expect(expired).toHaveLength(0);
    const granted = (await emails(server)).filter(
      (m) => m.to.includes('carol@example.com') && m.subject === 'Your request for gated is active',
    );
    expect(granted).toHaveLength(1);
    expect(granted[0]?.text).toContain('Duration: 1h');

    await advance('PT61M');
    expect((await user('carol').get<{ allowed: boolean }>('/v1/access?roleId=gated')).body.allowed).toBe(false);
  });
});

describe('self actions act on the caller (issue 11, item 13)', () => {
  it('refuses selfRenew of a role never held with NotEligible, and leaves nothing pending', async () => {
    const res = await user('mallory').post<Problem>('/v1/requests', {
      action: 'selfRenew',
      assignmentType: 'active',
      roleId: 'elevate-admin',
      justification: 'renew please',
      schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe('NotEligible');
    const pending = await admin.get<{ items: unknown[] }>('/v1/requests?principalId=mallory&status=PendingApproval');
    expect(pending.body.items).toHaveLength(0);
  });

  it.each(['selfActivate', 'selfDeactivate', 'selfExtend', 'selfRenew'])(
    'refuses %s for a principal of type group with InvalidPrincipalType',
    async (action) => {
      const res = await user('carol').post<Problem>('/v1/requests', {
        action,
        assignmentType: 'active',
        principalType: 'group',
        roleId: 'ops',
        justification: 'as a group',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.code).toBe('InvalidPrincipalType');
    },
  );
});

describe('date bounds (issue 11, item 14)', () => {
  const far = (days: number, from: number) => new Date(from + days * 86_400_000).toISOString();

  it('refuses a start beyond maxScheduleAhead (P90D by default), for assignments and activations alike', async () => {
    const t = await now();
    const assign = await admin.post<Problem>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'dave',
      roleId: 'ops',
      schedule: { startDateTime: '9999-06-01T00:00:00Z' },
    });
    expect(assign.status).toBe(400);
    expect(assign.body.code).toBe('ValidationFailed');
    expect(assign.body.errors?.[0]?.path).toBe('schedule.startDateTime');
    const activation = await user('carol').post<Problem>('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'ops',
      justification: 'later',
      schedule: { startDateTime: far(91, t), expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(activation.status).toBe(400);
    expect(activation.body.errors?.[0]?.path).toBe('schedule.startDateTime');
    const within = await admin.post<Req>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'dave',
      roleId: 'ops',
      schedule: { startDateTime: far(89, t) },
    });
    expect(within.status, JSON.stringify(within.body)).toBe(201);
  });

  it('follows the policy maxScheduleAhead, and moving a start is bound too', async () => {
    const t = await now();
    const policy = { ...defaultPolicy(), maxScheduleAhead: 'P7D' };
    expect((await admin.put('/v1/roles/ops/policy', policy)).status).toBe(200);
    expect((await admin.get<{ maxScheduleAhead: string }>('/v1/roles/ops/policy')).body.maxScheduleAhead).toBe('P7D');
    const moved = await admin.post<Problem>('/v1/requests', {
      action: 'adminUpdate',
      assignmentType: 'eligible',
      principalId: 'dave',
      roleId: 'ops',
      schedule: { startDateTime: far(8, t) },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(400);
    expect(moved.body.errors?.[0]?.path).toBe('schedule.startDateTime');
    expect((await admin.put('/v1/roles/ops/policy', defaultPolicy())).status).toBe(200);
  });

  it('stores no date after 9999-12-31: P9999Y is a clear 400', async () => {
    const eligible = await admin.post<Problem>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'erin',
      roleId: 'gated',
      schedule: { expiration: { type: 'afterDuration', duration: 'P9999Y' } },
    });
    expect(eligible.status, JSON.stringify(eligible.body)).toBe(400);
    expect(eligible.body.code).toBe('ValidationFailed');
    expect(eligible.body.errors?.[0]?.path).toBe('schedule.expiration.duration');
    expect(eligible.body.detail).toMatch(/9999-12-31/);
    const policy = defaultPolicy();
    policy.activation.maxDuration = 'P9999Y';
    expect((await admin.put('/v1/roles/ops/policy', policy)).status).toBe(200);
    const activation = await user('carol').post<Problem>('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'ops',
      justification: 'forever',
      schedule: { expiration: { type: 'afterDuration', duration: 'P9999Y' } },
    });
    expect(activation.status, JSON.stringify(activation.body)).toBe(400);
    expect(activation.body.code).toBe('ValidationFailed');
    const all = await admin.get<{ items: Assignment[] }>('/v1/assignments?limit=200');
    expect(all.body.items.filter((a) => (a.endDateTime ?? '').startsWith('+'))).toEqual([]);
    expect((await admin.put('/v1/roles/ops/policy', defaultPolicy())).status).toBe(200);
  });
});
