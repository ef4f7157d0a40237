import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { userRef } from '#shared/domain/primitives.ts';
import { keys, queries } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

const clock = new ManualClock(new Date('2026-11-26T10:00:00Z'));

beforeAll(async () => {
  useClock(clock);
  await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
  await call('POST', '/v1/roles', { as: 'admin', body: { id: 'db-admin', displayName: 'DB admin', privileged: true } });
  await call('POST', '/v1/roles', { as: 'admin', body: { id: 'reader', displayName: 'Reader', privileged: false } });
});

const assign = (body: Record<string, unknown>, as = 'admin', headers?: Record<string, string>) =>
  call('POST', '/v1/requests', { as, body: { action: 'adminAssign', roleId: 'db-admin', ...body }, headers });

describe('admin assignments', () => {
  it('assigns someone eligible: the request is Granted, the assignment Active, both audited together', async () => {
    // Act
    const res = await assign({ assignmentType: 'eligible', principalId: 'alice', justification: 'on-call rota' });
    // Assess
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      action: 'adminAssign',
      status: 'Granted',
      principalId: 'alice',
      roleId: 'db-admin',
      scope: '/',
      createdBy: 'admin',
      schedule: { expiration: { type: 'noExpiration', endDateTime: null } },
    });
    const assignment = await call('GET', `/v1/assignments/${res.body.assignmentId}`, { as: 'admin' });
    expect(assignment.body).toMatchObject({
      assignmentType: 'eligible',
      status: 'Active',
      origin: 'assigned',
      endDateTime: null,
      requestId: res.body.id,
    });
    const mine = await call('GET', '/v1/me/assignments', { as: 'alice' });
    expect(mine.body.items.map((a: { roleId: string }) => a.roleId)).toEqual(['db-admin']);
    // One audit event for the change (cut 3): the assignment's, recording the request it was made by.
    const events = await call('GET', `/v1/audit-events?principalId=alice`, { as: 'admin' });
    expect(events.body.items.map((e: { action: string }) => e.action)).toEqual(['assignment.assigned']);
    expect(events.body.items[0]).toMatchObject({
      target: { assignmentId: res.body.assignmentId, requestId: res.body.id },
      details: {
        assignment: { id: res.body.assignmentId, assignmentType: 'eligible', requestId: res.body.id },
        request: res.body,
      },
    });
  });

  it('refuses a duplicate live assignment of the same slot with 409, leaving one', async () => {
    await assign({ assignmentType: 'eligible', principalId: 'dup' });
    const again = await assign({ assignmentType: 'eligible', principalId: 'dup' });
    expect(again.status).toBe(409);
    const list = await call('GET', '/v1/assignments?principalId=dup', { as: 'admin' });
    expect(list.body.items).toHaveLength(1);
  });

  it('resolves concurrent assignments of one slot to exactly one', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => assign({ assignmentType: 'eligible', principalId: 'racer' })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const live = await depsFromEnv().store.all(queries.live(userRef('racer')));
    expect(live).toHaveLength(1);
    const role = await depsFromEnv().store.get(keys.role('db-admin'));
    const counted = (await call('GET', '/v1/assignments?roleId=db-admin&status=Active', { as: 'admin' })).body.items
      .length;
    expect(role?.liveAssignments).toBe(counted);
  });

  it('refuses by policy with the code of the contract and audits only the refusal', async () => {
    const permanentActive = await assign({
      assignmentType: 'active',
      principalId: 'bob',
      justification: 'x',
      schedule: { expiration: { type: 'noExpiration' } },
    });
    expect(permanentActive.status).toBe(400);
    expect(permanentActive.body.code).toBe('PermanentNotAllowed');
    const tooLong = await assign({
      assignmentType: 'active',
      principalId: 'bob',
      justification: 'x',
      schedule: { expiration: { type: 'afterDuration', duration: 'P181D' } },
    });
    expect(tooLong.body.code).toBe('DurationExceedsPolicy');
    const noWhy = await assign({
      assignmentType: 'active',
      principalId: 'bob',
      schedule: { expiration: { type: 'afterDuration', duration: 'P1D' } },
    });
    expect(noWhy.body.code).toBe('JustificationRequired');
    const sp = await assign({ assignmentType: 'eligible', principalId: 'ci-bot', principalType: 'servicePrincipal' });
    expect(sp.body.code).toBe('InvalidPrincipalType');
    expect((await call('GET', '/v1/assignments?principalId=bob', { as: 'admin' })).body.items).toEqual([]);
    const refusals = await call('GET', '/v1/audit-events?principalId=bob&action=request.refused', { as: 'admin' });
    expect(refusals.body.items.map((e: { details: { code: string } }) => e.details.code).sort()).toEqual([
      'DurationExceedsPolicy',
      'JustificationRequired',
      'PermanentNotAllowed',
    ]);
  });

  it('lets a plain user make no admin request, and audits that refusal', async () => {
    const res = await assign({ assignmentType: 'eligible', principalId: 'eve' }, 'eve');
    expect(res.status).toBe(403);
    const refusals = await call('GET', '/v1/audit-events?actorId=eve&action=request.refused', { as: 'admin' });
    expect(refusals.body.items[0].details).toMatchObject({ code: 'Forbidden', action: 'adminAssign' });
  });

  it('validates without writing anything when validateOnly is set', async () => {
    const res = await assign({ assignmentType: 'eligible', principalId: 'val', validateOnly: true });
    expect(res).toMatchObject({ status: 200, body: { valid: true } });
    const refused = await assign({
      assignmentType: 'eligible',
      principalId: 'val',
      principalType: 'servicePrincipal',
      validateOnly: true,
    });
    expect(refused.body.code).toBe('InvalidPrincipalType');
    expect((await call('GET', '/v1/audit-events?principalId=val', { as: 'admin' })).body.items).toEqual([]);
  });

  it('schedules a future assignment, which becomes active at its start and expires at its end without anyone acting', async () => {
    const res = await assign({
      assignmentType: 'active',
      principalId: 'sched',
      justification: 'maintenance window',
      schedule: { startDateTime: '2026-11-27T00:00:00Z', expiration: { type: 'afterDuration', duration: 'PT2H' } },
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('Scheduled');
    const check = () => call('GET', '/v1/access?principalId=sched&roleId=db-admin&scope=/accounts/1', { as: 'admin' });
    expect((await check()).body).toEqual({
      allowed: false,
      assignmentId: null,
      expiresAt: null,
      viaGroup: null,
      provisioning: null,
    });
    clock.set(new Date('2026-11-27T00:00:00Z'));
    expect((await check()).body).toEqual({
      allowed: true,
      assignmentId: res.body.assignmentId,
      expiresAt: '2026-11-27T02:00:00.000Z',
      viaGroup: null,
      provisioning: 'NotRequired',
    });
    expect((await call('GET', `/v1/assignments/${res.body.assignmentId}`, { as: 'admin' })).body.status).toBe('Active');
    clock.set(new Date('2026-11-27T02:00:00Z'));
    expect((await check()).body.allowed).toBe(false);
    expect((await call('GET', `/v1/assignments/${res.body.assignmentId}`, { as: 'admin' })).body.status).toBe(
      'Expired',
    );
    expect((await call('GET', '/v1/me/assignments', { as: 'sched' })).body.items).toEqual([]);
  });

  it('updates an assignment in place and removes it, with the access check following at once', async () => {
    const created = await assign({
      assignmentType: 'active',
      principalId: 'upd',
      scope: '/accounts/1',
      justification: 'x',
      schedule: { expiration: { type: 'afterDuration', duration: 'P1D' } },
    });
    const check = () => call('GET', '/v1/access?roleId=db-admin&scope=/accounts/1/regions/eu-west-1', { as: 'upd' });
    expect((await check()).body.allowed).toBe(true);
    const updated = await call('POST', '/v1/requests', {
      as: 'admin',
      body: {
        action: 'adminUpdate',
        assignmentType: 'active',
        principalId: 'upd',
        roleId: 'db-admin',
        scope: '/accounts/1',
        justification: 'longer',
        schedule: { expiration: { type: 'afterDuration', duration: 'P7D' } },
      },
    });
    expect(updated.status).toBe(201);
    expect(updated.body.assignmentId).toBe(created.body.assignmentId);
    expect((await check()).body.expiresAt).toBe(
      new Date(Date.parse(created.body.schedule.startDateTime) + 7 * 86_400_000).toISOString(),
    );
    const removed = await call('POST', '/v1/requests', {
      as: 'admin',
      body: {
        action: 'adminRemove',
        assignmentType: 'active',
        principalId: 'upd',
        roleId: 'db-admin',
        scope: '/accounts/1',
      },
    });
    expect(removed.status).toBe(201);
    expect(removed.body.status).toBe('Revoked');
    expect((await check()).body.allowed).toBe(false);
    expect((await call('GET', `/v1/assignments/${created.body.assignmentId}`, { as: 'admin' })).body.status).toBe(
      'Revoked',
    );
    const again = await call('POST', '/v1/requests', {
      as: 'admin',
      body: {
        action: 'adminRemove',
        assignmentType: 'active',
        principalId: 'upd',
        roleId: 'db-admin',
        scope: '/accounts/1',
      },
    });
    expect(again.status).toBe(404);
  });

  it('does not grant a role outside the assigned scope', async () => {
    await assign({
      assignmentType: 'active',
      principalId: 'scoped',
      scope: '/accounts/1',
      justification: 'x',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT8H' } },
    });
    const outside = await call('GET', '/v1/access?roleId=db-admin&scope=/accounts/2', { as: 'scoped' });
    expect(outside.body.allowed).toBe(false);
    const above = await call('GET', '/v1/access?roleId=db-admin&scope=/', { as: 'scoped' });
    expect(above.body.allowed).toBe(false);
  });

  it('keeps a plain user to their own access checks, assignments and requests', async () => {
    expect((await call('GET', '/v1/access?principalId=alice&roleId=db-admin', { as: 'eve' })).status).toBe(403);
    const alices = (await call('GET', '/v1/assignments?principalId=alice', { as: 'admin' })).body.items[0];
    expect((await call('GET', `/v1/assignments/${alices.id}`, { as: 'eve' })).status).toBe(404);
    expect((await call('GET', `/v1/requests/${alices.requestId}`, { as: 'eve' })).status).toBe(404);
    expect((await call('GET', `/v1/requests/${alices.requestId}`, { as: 'alice' })).status).toBe(200);
    expect((await call('GET', '/v1/requests?principalId=alice', { as: 'eve' })).status).toBe(403);
    expect(
      (await call('GET', '/v1/requests', { as: 'alice' })).body.items.every(
        (r: { principalId: string }) => r.principalId === 'alice',
      ),
    ).toBe(true);
    expect((await call('GET', '/v1/assignments', { as: 'eve' })).status).toBe(403);
  });

  it('replays a retried request with the same Idempotency-Key and creates one assignment', async () => {
    const headers = { 'idempotency-key': 'assign-idem-1' };
    const body = { assignmentType: 'eligible', principalId: 'idem' };
    const [a, b] = await Promise.all([assign(body, 'admin', headers), assign(body, 'admin', headers)]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).toBe(b.body.id);
    expect((await call('GET', '/v1/assignments?principalId=idem', { as: 'admin' })).body.items).toHaveLength(1);
  });

  it('lists privileged assignments and filters by type and status across pages', async () => {
    await call('POST', '/v1/requests', {
      as: 'admin',
      body: { action: 'adminAssign', assignmentType: 'eligible', principalId: 'nonpriv', roleId: 'reader' },
    });
    const privileged = await call('GET', '/v1/assignments?privileged=true&limit=200', { as: 'admin' });
    const roles = new Set(privileged.body.items.map((a: { roleId: string }) => a.roleId));
    expect(roles.has('reader')).toBe(false);
    expect(roles.has('db-admin')).toBe(true);
    expect(roles.has('elevate-admin')).toBe(true);
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const q: string = token ? `&nextToken=${encodeURIComponent(token)}` : '';
      const page = await call('GET', `/v1/assignments?assignmentType=eligible&limit=1${q}`, { as: 'admin' });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((a: { id: string; assignmentType: string }) => a.assignmentType));
      token = page.body.nextToken;
    } while (token);
    expect(seen.length).toBeGreaterThan(3);
    expect(new Set(seen)).toEqual(new Set(['eligible']));
  });
});

describe('principals', () => {
  it('records a caller from its token claims (on a call that may change something), and lets an admin describe anyone', async () => {
    const claims = { sub: 'dana', email: 'dana@example.com', name: 'Dana' };
    await call('GET', '/v1/me/assignments', { as: claims });
    expect((await call('GET', '/v1/principals/dana', { as: 'dana' })).status).toBe(404);
    await call('POST', '/v1/requests/req_missing/cancel', { as: claims });
    expect((await call('GET', '/v1/principals/dana', { as: 'dana' })).body).toMatchObject({
      id: 'dana',
      type: 'user',
      email: 'dana@example.com',
      displayName: 'Dana',
    });
    const put = await call('PUT', '/v1/principals/sec-team', {
      as: 'admin',
      body: { type: 'group', displayName: 'Security', email: 'sec@example.com' },
    });
    expect(put.status).toBe(200);
    expect((await call('GET', '/v1/principals/sec-team', { as: 'dana' })).status).toBe(403);
    expect((await call('GET', '/v1/principals/sec-team?principalType=group', { as: 'admin' })).body.type).toBe('group');
    // A profile is a type and an id: there is no user sec-team.
    expect((await call('GET', '/v1/principals/sec-team', { as: 'admin' })).status).toBe(404);
    expect(
      (await call('PUT', '/v1/principals/x', { as: 'admin', body: { type: 'robot', displayName: 'x' } })).status,
    ).toBe(400);
  });
});
