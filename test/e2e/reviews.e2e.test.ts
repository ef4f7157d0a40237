/**
 * Access reviews over HTTP, as a client sees them: an admin creates a review, the hourly job (run by hand, then on
 * the manual clock) starts its instance, reviewers decide, the end passes, and the denied and deny-recommended
 * assignments are removed while the rest are kept, with the audit trail and the mails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { type ApiClient, api, emails, settle, startTestServer } from '#test/support/local.ts';

interface Decision {
  id: string;
  reviewId: string;
  instanceId: string;
  assignmentId: string;
  principalId: string;
  assignmentType: string;
  recommendation: 'Approve' | 'Deny';
  recommendationReason: string;
  decision: string;
  reviewedBy: string | null;
  applyResult: string;
}
interface Instance {
  id: string;
  reviewId: string;
  status: string;
  startDateTime: string;
  endDateTime: string;
  counts: Record<string, number>;
}
interface Page<T> {
  items: T[];
  nextToken: string | null;
}
interface Problem {
  code: string;
}

const DAY = 86_400_000;
let server: LocalServer;
let admin: ApiClient;
const as = (sub: string, groups: string[] = []) => api(server).as({ sub, mfa: true, groups });
const advance = async (ms: number) => {
  await server.manualClock?.advance(ms);
  await settle(server);
};
const assignmentIds: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-03-01T10:00:00Z') });
  admin = as('admin');
  expect(
    (await admin.post('/v1/roles', { id: 'db-admin', displayName: 'Database admin', privileged: true })).status,
  ).toBe(201);
  for (const p of ['alice', 'bob', 'carol', 'dave', 'rita', 'eve']) {
    await admin.put(`/v1/principals/${p}`, { type: 'user', displayName: p, email: `${p}@example.com` });
  }
  for (const p of ['alice', 'bob', 'carol']) {
    const res = await admin.post<{ assignmentId: string }>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: p,
      roleId: 'db-admin',
    });
    expect(res.status).toBe(201);
    assignmentIds[p] = res.body.assignmentId;
  }
  const dave = await admin.post<{ assignmentId: string }>('/v1/requests', {
    action: 'adminAssign',
    assignmentType: 'active',
    principalId: 'dave',
    roleId: 'db-admin',
    justification: 'on-call',
    schedule: { expiration: { type: 'afterDuration', duration: 'P120D' } },
  });
  expect(dave.status).toBe(201);
  assignmentIds.dave = dave.body.assignmentId;
  // Forty days on, only alice still uses her eligibility.
  await advance(40 * DAY);
  const activated = await as('alice').post('/v1/requests', {
    action: 'selfActivate',
    assignmentType: 'active',
    roleId: 'db-admin',
    justification: 'INC-7',
    schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
  });
  expect(activated.status, JSON.stringify(activated.body)).toBe(201);
  await advance(2 * 3_600_000);
});
afterAll(async () => {
  await server?.stop();
});

describe('an access review campaign', () => {
  let reviewId: string;
  let instance: Instance;
  let items: Record<string, Decision>;

  it('is created by an admin with a strict schema, and refused to others', async () => {
    const body = {
      displayName: 'db-admin review',
      scope: { roleIds: ['db-admin'], assignmentTypes: ['eligible', 'active'] },
      reviewers: { type: 'principals', principals: [{ type: 'user', id: 'rita' }] },
      duration: 'P14D',
      recurrence: { type: 'once', startDateTime: server.clock.now().toISOString() },
      defaultDecision: 'recommendation',
      autoApply: true,
      requireJustification: true,
      recommendationLookback: 'P30D',
    };
    expect((await as('eve').post('/v1/access-reviews', body)).status).toBe(403);
    const unknown = await admin.post<Problem>('/v1/access-reviews', { ...body, owner: 'x' });
    expect(unknown.status).toBe(400);
    const noRole = await admin.post<Problem & { errors: { path: string }[] }>('/v1/access-reviews', {
      ...body,
      scope: { roleIds: ['nope'] },
    });
    expect(noRole.status).toBe(400);
    expect(noRole.body.errors[0]?.path).toBe('scope.roleIds.0');

    const created = await admin.post<{ id: string; nextStartDateTime: string }>('/v1/access-reviews', body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    reviewId = created.body.id;
    expect((await admin.get(`/v1/access-reviews/${reviewId}`)).body).toMatchObject({ id: reviewId, autoApply: true });
  });

  it('starts when the schedule runs: one item per assignment in scope, each with a recommendation', async () => {
    // Act
    const run = await api(server).post('/_local/schedules/reviews/run');
    expect(run.status).toBe(200);
    await settle(server);
    // Assess
    const instances = await admin.get<Page<Instance>>(`/v1/access-reviews/${reviewId}/instances`);
    expect(instances.body.items).toHaveLength(1);
    instance = instances.body.items[0] as Instance;
    expect(instance).toMatchObject({ status: 'InProgress', counts: { total: 4, notReviewed: 4 } });
    const decisions = await admin.get<Page<Decision>>(
      `/v1/access-reviews/${reviewId}/instances/${instance.id}/decisions`,
    );
    items = Object.fromEntries(decisions.body.items.map((d) => [d.principalId, d]));
    expect(Object.keys(items).sort()).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(items.alice).toMatchObject({
      recommendation: 'Approve',
      recommendationReason: expect.stringMatching(/^activated within the last P30D \(last at /),
    });
    expect(items.bob).toMatchObject({
      recommendation: 'Deny',
      recommendationReason: 'not activated within the last P30D (never activated)',
    });
    expect(items.carol?.recommendation).toBe('Deny');
    expect(items.dave).toMatchObject({
      recommendation: 'Approve',
      recommendationReason: expect.stringMatching(/no usage data/),
    });
    // A second run starts nothing new.
    await api(server).post('/_local/schedules/reviews/run');
    expect((await admin.get<Page<Instance>>(`/v1/access-reviews/${reviewId}/instances`)).body.items).toHaveLength(1);
  });

  it('mails the reviewer and queues the items for them alone', async () => {
    const mail = (await emails(server)).filter((m) => m.subject === 'Access review: db-admin review');
    expect(mail.map((m) => m.to)).toEqual([['rita@example.com']]);
    const queue = await as('rita').get<Page<Decision>>('/v1/me/reviews');
    expect(queue.body.items.map((d) => d.principalId).sort()).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect((await as('eve').get<Page<Decision>>('/v1/me/reviews')).body.items).toEqual([]);
    expect((await as('bob').get<Page<Decision>>('/v1/me/reviews')).body.items).toEqual([]);
  });

  it('refuses non-reviewers with 403, and the principal deciding on their own access', async () => {
    const path = (d: Decision | undefined) =>
      `/v1/access-reviews/${reviewId}/instances/${instance.id}/decisions/${d?.id}`;
    expect((await as('eve').post<Problem>(path(items.bob), { decision: 'Approve', justification: 'x' })).status).toBe(
      403,
    );
    const own = await as('bob').post<Problem>(path(items.bob), { decision: 'Approve', justification: 'I need it' });
    expect(own.status).toBe(403);
    expect((await as('eve').get(`/v1/access-reviews/${reviewId}/instances/${instance.id}/decisions`)).status).toBe(403);
  });

  it('takes the reviewer’s decisions, with a justification, once each (concurrent deciders: exactly one wins)', async () => {
    const rita = as('rita');
    const path = (d: Decision | undefined) =>
      `/v1/access-reviews/${reviewId}/instances/${instance.id}/decisions/${d?.id}`;
    const bare = await rita.post<Problem>(path(items.carol), { decision: 'Approve' });
    expect(bare.status).toBe(400);
    expect(bare.body.code).toBe('JustificationRequired');
    expect(
      (await rita.post(path(items.carol), { decision: 'Approve', justification: 'still on the DB team' })).status,
    ).toBe(200);
    expect((await rita.post(path(items.dave), { decision: 'Deny', justification: 'left the team' })).status).toBe(200);
    const racing = await Promise.all([
      rita.post(path(items.alice), { decision: 'Approve', justification: 'uses it' }),
      rita.post(path(items.alice), { decision: 'Approve', justification: 'uses it (again)' }),
      rita.post(path(items.alice), { decision: 'Approve', justification: 'uses it (third time)' }),
    ]);
    expect(racing.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    const decided = await admin.get<Page<{ details: { decision: string } }>>('/v1/audit-events?action=review.decided');
    expect(decided.body.items).toHaveLength(3);
    const after = await admin.get<Page<Instance>>(`/v1/access-reviews/${reviewId}/instances`);
    expect(after.body.items[0]?.counts).toMatchObject({ total: 4, notReviewed: 1 });
    expect((await as('rita').get<Page<Decision>>('/v1/me/reviews')).body.items.map((d) => d.principalId)).toEqual([
      'bob',
    ]);
  });

  it('reminds the reviewer halfway, once', async () => {
    await advance(7 * DAY + 3_600_000);
    await advance(3_600_000);
    const reminders = (await emails(server)).filter((m) => m.subject.startsWith('Reminder: access review'));
    expect(reminders.map((m) => m.to)).toEqual([['rita@example.com']]);
  });

  it('at the end fills the default (the recommendation), removes the denied and deny-recommended assignments and keeps the rest', async () => {
    // Act: past the end; the hourly job runs on the clock
    await advance(7 * DAY + 3_600_000);
    // Assess
    const inst = (await admin.get<Page<Instance>>(`/v1/access-reviews/${reviewId}/instances`)).body.items[0];
    expect(inst).toMatchObject({
      status: 'Applied',
      counts: { total: 4, notReviewed: 0, approve: 2, deny: 2, applied: 2, failed: 0 },
    });
    const decisions = await admin.get<Page<Decision>>(
      `/v1/access-reviews/${reviewId}/instances/${instance.id}/decisions`,
    );
    const by = Object.fromEntries(decisions.body.items.map((d) => [d.principalId, d]));
    expect(by.bob).toMatchObject({ decision: 'Deny', reviewedBy: 'elevate', applyResult: 'Applied' });
    expect(by.dave).toMatchObject({ decision: 'Deny', reviewedBy: 'rita', applyResult: 'Applied' });
    expect(by.alice).toMatchObject({ decision: 'Approve', applyResult: 'NotApplied' });
    expect(by.carol).toMatchObject({ decision: 'Approve', applyResult: 'NotApplied' });
    const status = async (p: string) =>
      (await admin.get<{ status: string }>(`/v1/assignments/${assignmentIds[p]}`)).body.status;
    expect(await status('bob')).toBe('Revoked');
    expect(await status('dave')).toBe('Revoked');
    expect(await status('alice')).toBe('Active');
    expect(await status('carol')).toBe('Active');
    const applied = await admin.get<Page<{ target: { principalId: string }; details: { result: string } }>>(
      '/v1/audit-events?action=review.applied',
    );
    expect(applied.body.items.map((e) => [e.target.principalId, e.details.result]).sort()).toEqual([
      ['bob', 'Applied'],
      ['dave', 'Applied'],
    ]);
    const revoked = await admin.get<Page<{ target: { principalId: string } }>>(
      '/v1/audit-events?action=assignment.revoked',
    );
    expect(revoked.body.items.map((e) => e.target.principalId).sort()).toEqual(['bob', 'dave']);
    // Nothing left to decide, and nothing decided after the end.
    expect((await as('rita').get<Page<Decision>>('/v1/me/reviews')).body.items).toEqual([]);
    const late = await as('rita').post<Problem>(
      `/v1/access-reviews/${reviewId}/instances/${instance.id}/decisions/${items.carol?.id}`,
      { decision: 'Deny', justification: 'late' },
    );
    expect(late.status).toBe(409);
  });
});

describe('a self review stopped early and applied by hand', () => {
  it('lets each principal review their own access, then the admin stops and applies it', async () => {
    const created = await admin.post<{ id: string }>('/v1/access-reviews', {
      displayName: 'self review',
      scope: { roleIds: ['db-admin'], assignmentTypes: ['eligible'] },
      reviewers: { type: 'self' },
      duration: 'P7D',
      recurrence: { type: 'once', startDateTime: server.clock.now().toISOString() },
      defaultDecision: 'none',
      autoApply: false,
      requireJustification: false,
      recommendationLookback: 'P30D',
    });
    expect(created.status).toBe(201);
    await api(server).post('/_local/schedules/reviews/run');
    const inst = (await admin.get<Page<Instance>>(`/v1/access-reviews/${created.body.id}/instances`)).body.items[0];
    expect(inst?.counts.total).toBe(2); // alice and carol are still eligible
    const mine = await as('carol').get<Page<Decision>>('/v1/me/reviews');
    expect(mine.body.items.map((d) => d.principalId)).toEqual(['carol']);
    const item = mine.body.items[0] as Decision;
    const path = `/v1/access-reviews/${item.reviewId}/instances/${item.instanceId}/decisions/${item.id}`;
    expect((await as('alice').post(path, { decision: 'Approve' })).status).toBe(403);
    expect((await as('carol').post(path, { decision: 'Deny' })).status).toBe(200);
    const startMail = (await emails(server)).filter((m) => m.subject === 'Access review: self review');
    expect(startMail.map((m) => m.to[0]).sort()).toEqual(['alice@example.com', 'carol@example.com']);

    // Act: stop early, then apply by hand
    const stopped = await admin.post<Instance>(`/v1/access-reviews/${item.reviewId}/instances/${item.instanceId}/stop`);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ status: 'Completed', counts: { deny: 1, notReviewed: 1 } });
    expect(
      (await as('alice').post(path.replace(item.id, 'dec_00000000000000000000000000'), { decision: 'Approve' })).status,
    ).toBe(404);
    const applied = await admin.post<Instance>(
      `/v1/access-reviews/${item.reviewId}/instances/${item.instanceId}/apply`,
    );
    // Assess
    expect(applied.body).toMatchObject({ status: 'Applied', counts: { applied: 1 } });
    expect((await admin.get<{ status: string }>(`/v1/assignments/${assignmentIds.carol}`)).body.status).toBe('Revoked');
    expect((await admin.get<{ status: string }>(`/v1/assignments/${assignmentIds.alice}`)).body.status).toBe('Active');
  });
});
