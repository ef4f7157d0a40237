import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { ops, type Slot, StandingMoved, stored } from '#shared/store/records.ts';
import { lastActivations, readLive } from '#shared/usecases/assignments.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { removalPlan } from '#shared/usecases/lifecycle.ts';
import { reconcile } from '#shared/usecases/reconcile.ts';
import { runReviewJob } from '#shared/usecases/review-job.ts';
import { checkInvariants, scanTable } from '#test/support/invariants.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable, type TestTable } from '#test/support/table.ts';

/**
 * Issue 11, item 1: no activation is in force beyond the eligibility it stands on. Through the API handlers
 * (API Gateway events) against DynamoDB Local: removal, a review's denial, shortening and expiry of an
 * eligibility end its activations in the same transaction; an extension stops at the eligibility's end; a removal
 * racing an activation of the same eligibility leaves both or neither.
 */
const clock = new ManualClock(new Date('2026-11-26T10:00:00Z'));
/** Each test starts a day after the last (the manual clock only moves forward). */
let T0 = clock.now();
const nextDay = () => {
  T0 = new Date(T0.getTime() + 86_400_000);
  clock.set(T0);
};
let table: TestTable;
const ROLE = 'db-bound';
const MIN = 60_000;

beforeAll(async () => {
  useClock(clock);
  table = await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
  expect(
    (await call('POST', '/v1/roles', { as: 'admin', body: { id: ROLE, displayName: ROLE, privileged: true } })).status,
  ).toBe(201);
  const policy = defaultPolicy();
  policy.activation.maxExtensions = 3;
  expect((await call('PUT', `/v1/roles/${ROLE}/policy`, { as: 'admin', body: policy })).status).toBe(200);
}, 180_000);

const eligible = (principalId: string, duration?: string) =>
  call('POST', '/v1/requests', {
    as: 'admin',
    body: {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId,
      roleId: ROLE,
      ...(duration ? { schedule: { expiration: { type: 'afterDuration', duration } } } : {}),
    },
  });
const removeEligibility = (principalId: string) =>
  call('POST', '/v1/requests', {
    as: 'admin',
    body: { action: 'adminRemove', assignmentType: 'eligible', principalId, roleId: ROLE, justification: 'left' },
  });
const activate = (principalId: string, duration = 'PT1H') =>
  call('POST', '/v1/requests', {
    as: principalId,
    body: {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: ROLE,
      justification: 'INC-1',
      schedule: { expiration: { type: 'afterDuration', duration } },
    },
  });
const extend = (principalId: string, duration = 'PT8H') =>
  call('POST', '/v1/requests', {
    as: principalId,
    body: {
      action: 'selfExtend',
      assignmentType: 'active',
      roleId: ROLE,
      justification: 'more time',
      schedule: { expiration: { type: 'afterDuration', duration } },
    },
  });
const allowed = async (principalId: string) => {
  const res = await call('GET', `/v1/access?principalId=${principalId}&roleId=${ROLE}&scope=/`, { as: 'admin' });
  expect(res.status).toBe(200);
  return res.body.allowed as boolean;
};
const assignmentOf = async (id: string) => (await call('GET', `/v1/assignments/${id}`, { as: 'admin' })).body;

describe('an activation never outlives its eligibility', () => {
  it('judy: removing the eligibility revokes her activation at once, and selfExtend cannot bring it back', async () => {
    // Prepare
    nextDay();
    expect((await eligible('judy')).status).toBe(201);
    const activated = await activate('judy');
    expect(activated.status, JSON.stringify(activated.body)).toBe(201);
    expect(await allowed('judy')).toBe(true);

    // Act
    const removed = await removeEligibility('judy');
    const extended = await extend('judy');

    // Assess
    expect(removed.status, JSON.stringify(removed.body)).toBe(201);
    expect(await allowed('judy')).toBe(false);
    expect(extended.status).toBeGreaterThanOrEqual(400);
    expect(extended.status).toBeLessThan(500);
    clock.set(new Date(T0.getTime() + 30 * MIN));
    expect(await allowed('judy')).toBe(false);
    const activation = await assignmentOf(activated.body.assignmentId);
    expect(activation.status).toBe('Revoked');
    const audit = await call('GET', '/v1/audit-events?principalId=judy&action=assignment.revoked', { as: 'admin' });
    expect(audit.body.items.map((e: { target: { assignmentId: string } }) => e.target.assignmentId)).toContain(
      activated.body.assignmentId,
    );
  });

  it('ivan: an extension stops at the end of the eligibility, and nothing is allowed after it', async () => {
    // Prepare: eligible for 2 hours, active for 1.
    nextDay();
    const elig = await eligible('ivan', 'PT2H');
    expect(elig.status).toBe(201);
    const eligEnd = Date.parse((await assignmentOf(elig.body.assignmentId)).endDateTime);
    const activated = await activate('ivan');
    expect(activated.status).toBe(201);

    // Act: at 50 minutes, ask for 8 more hours.
    clock.set(new Date(T0.getTime() + 50 * MIN));
    const extended = await extend('ivan');

    // Assess
    expect(extended.status, JSON.stringify(extended.body)).toBe(201);
    const activation = await assignmentOf(activated.body.assignmentId);
    expect(Date.parse(activation.endDateTime)).toBeLessThanOrEqual(eligEnd);
    // A second extension has nothing left to give: refused, not granted for 0 seconds.
    clock.set(new Date(eligEnd - 10 * MIN));
    const again = await extend('ivan');
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('NotEligible');
    clock.set(new Date(eligEnd - MIN));
    expect(await allowed('ivan')).toBe(true);
    clock.set(new Date(eligEnd + MIN));
    expect(await allowed('ivan')).toBe(false);
    clock.set(new Date(eligEnd + 60 * MIN));
    expect(await allowed('ivan')).toBe(false);
  });

  it('shortening an eligibility shortens its activation in the same change', async () => {
    nextDay();
    expect((await eligible('kate')).status).toBe(201);
    const activated = await activate('kate', 'PT4H');
    expect(activated.status).toBe(201);

    const newEnd = new Date(T0.getTime() + 30 * MIN).toISOString();
    const updated = await call('POST', '/v1/requests', {
      as: 'admin',
      body: {
        action: 'adminUpdate',
        assignmentType: 'eligible',
        principalId: 'kate',
        roleId: ROLE,
        schedule: { expiration: { type: 'afterDateTime', endDateTime: newEnd } },
      },
    });

    expect(updated.status, JSON.stringify(updated.body)).toBe(201);
    expect((await assignmentOf(activated.body.assignmentId)).endDateTime).toBe(newEnd);
    clock.set(new Date(T0.getTime() + 31 * MIN));
    expect(await allowed('kate')).toBe(false);
  });

  it("a review's denial of the eligibility revokes the activation standing on it", async () => {
    // Prepare: mia is eligible and active; an access review of the role's eligibilities starts.
    nextDay();
    expect((await eligible('mia')).status).toBe(201);
    const activated = await activate('mia', 'PT4H');
    expect(activated.status).toBe(201);
    const review = await call('POST', '/v1/access-reviews', {
      as: 'admin',
      body: {
        displayName: 'eligibility review',
        scope: { roleIds: [ROLE], assignmentTypes: ['eligible'] },
        reviewers: { type: 'principals', principals: [{ type: 'user', id: 'rita' }] },
        duration: 'P1D',
        recurrence: { type: 'once' },
        defaultDecision: 'none',
        autoApply: false,
        requireJustification: false,
      },
    });
    expect(review.status, JSON.stringify(review.body)).toBe(201);
    await runReviewJob(depsFromEnv(), { timeLeft: () => 900_000 });
    const instances = await call('GET', `/v1/access-reviews/${review.body.id}/instances`, { as: 'admin' });
    const instanceId = instances.body.items[0].id as string;
    const base = `/v1/access-reviews/${review.body.id}/instances/${instanceId}`;
    const decisions = await call('GET', `${base}/decisions?limit=200`, { as: 'admin' });
    const item = decisions.body.items.find((d: { principalId: string }) => d.principalId === 'mia');

    // Act: denied, stopped and applied.
    const denied = await call('POST', `${base}/decisions/${item.id}`, {
      as: 'rita',
      body: { decision: 'Deny', justification: 'no longer on call' },
    });
    expect(denied.status, JSON.stringify(denied.body)).toBe(200);
    expect((await call('POST', `${base}/stop`, { as: 'admin' })).status).toBe(200);
    expect((await call('POST', `${base}/apply`, { as: 'admin' })).status).toBe(200);

    // Assess
    expect((await assignmentOf(activated.body.assignmentId)).status).toBe('Revoked');
    expect(await allowed('mia')).toBe(false);
  });

  it('the expiry of an eligibility ends what still stands on it', async () => {
    nextDay();
    const elig = await eligible('leo', 'PT1H');
    expect(elig.status).toBe(201);
    const activated = await activate('leo', 'PT1H');
    expect(activated.status).toBe(201);
    clock.set(new Date(T0.getTime() + 61 * MIN));
    await reconcile(depsFromEnv());
    const items = await scanTable(table);
    const live = items.filter((i) => i.entity === 'live' && i.principalId === 'leo');
    expect(live).toHaveLength(0);
    expect(await allowed('leo')).toBe(false);
  });

  it('a removal planned before an activation of its eligibility committed fails, and is planned again with it', async () => {
    // Prepare: the removal reads the eligibility and its (no) activations, then an activation commits.
    nextDay();
    expect((await eligible('nina')).status).toBe(201);
    const deps = depsFromEnv();
    const slot = { principalType: 'user', principalId: 'nina', roleId: ROLE, assignmentType: 'eligible', scope: '/' };
    const eligibility = await readLive(deps.store, slot as Slot);
    if (!eligibility) throw new Error('no eligibility');
    const { request, step } = await removalPlan(deps, SYSTEM_ACTOR, clock.now(), eligibility, 'left');
    const activated = await activate('nina');
    expect(activated.status, JSON.stringify(activated.body)).toBe(201);

    // Act: the removal's transaction as planned, then the removal through the API.
    const stale = deps.store.transact([...step.writes, ops.createRequest(request)]);
    await expect(stale).rejects.toBeInstanceOf(StandingMoved);
    const removed = await removeEligibility('nina');

    // Assess: the activation committed first; the removal, planned again, takes it along.
    expect(removed.status, JSON.stringify(removed.body)).toBe(201);
    expect((await assignmentOf(activated.body.assignmentId)).status).toBe('Revoked');
    expect(await allowed('nina')).toBe(false);
    expect(await checkInvariants(table)).toEqual([]);
  });

  it("an eligibility's change keeps its last use, which alerts and reviews read (and the items stored before)", async () => {
    // Prepare: olga activates; her eligibility is then extended by an administrator.
    nextDay();
    expect((await eligible('olga')).status).toBe(201);
    const activated = await activate('olga');
    expect(activated.status).toBe(201);
    const later = new Date(T0.getTime() + 90 * 86_400_000).toISOString();
    const updated = await call('POST', '/v1/requests', {
      as: 'admin',
      body: {
        action: 'adminUpdate',
        assignmentType: 'eligible',
        principalId: 'olga',
        roleId: ROLE,
        schedule: { expiration: { type: 'afterDateTime', endDateTime: later } },
      },
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(201);
    const deps = depsFromEnv();
    const slot = { principalType: 'user', principalId: 'olga', roleId: ROLE, assignmentType: 'eligible', scope: '/' };
    const eligibility = await readLive(deps.store, slot as Slot);
    if (!eligibility) throw new Error('no eligibility');
    expect(eligibility.endDateTime).toBe(later);
    // An eligibility activated before issue 18: its last use is the LASTUSE item only.
    expect((await eligible('pia')).status).toBe(201);
    const old = await readLive(deps.store, { ...slot, principalId: 'pia' } as Slot);
    if (!old) throw new Error('no eligibility');
    const oldUse = new Date(T0.getTime() - 86_400_000).toISOString();
    await deps.store.transact([
      { Put: { Item: stored.lastUse.item({ eligibilityId: old.id, assignmentId: 'asg-old', at: oldUse }) } },
    ]);

    // Act
    const uses = await lastActivations(deps.store, [eligibility, old]);

    // Assess: the change kept the last use on the slot, and the last use of the data stored before is read.
    expect(uses.get(eligibility.id)).toBe((await assignmentOf(activated.body.assignmentId)).createdAt);
    expect(uses.get(old.id)).toBe(oldUse);
    const slotItem = (await scanTable(table)).find((i) => i.entity === 'live' && i.id === eligibility.id);
    expect(slotItem?.lastUse).toEqual({ assignmentId: activated.body.assignmentId, at: expect.any(String) });
    // Nothing of it shows in the API's view of the eligibility.
    expect(Object.keys(await assignmentOf(eligibility.id))).not.toContain('lastUse');
  });

  it('a removal racing an activation of the same eligibility leaves both or neither (50 runs)', {
    timeout: 180_000,
  }, async () => {
    nextDay();
    const outcomes = { removedFirst: 0, activatedFirst: 0 };
    for (let run = 0; run < 50; run++) {
      const principalId = `racer-${run}`;
      expect((await eligible(principalId)).status).toBe(201);

      const [removed, activated] = await Promise.all([removeEligibility(principalId), activate(principalId)]);

      for (const r of [removed, activated]) {
        expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
      }
      if (activated.status === 201) outcomes.activatedFirst++;
      else outcomes.removedFirst++;
    }
    const items = await scanTable(table);
    const liveEligible = new Set(
      items.filter((i) => i.entity === 'live' && i.assignmentType === 'eligible').map((i) => String(i.id)),
    );
    const orphans = items.filter(
      (i) =>
        i.entity === 'live' &&
        i.origin === 'activated' &&
        String(i.principalId).startsWith('racer-') &&
        !liveEligible.has(String(i.eligibilityId)),
    );
    expect(orphans).toEqual([]);
    expect(outcomes.activatedFirst + outcomes.removedFirst).toBe(50);
    expect(await checkInvariants(table)).toEqual([]);
  });
});
