import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import type { Assignment } from '#shared/domain/assignment.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { ops, type Slot, StandingMoved } from '#shared/store/records.ts';
import { readLive } from '#shared/usecases/assignments.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { checkInvariants, scanTable } from '#test/support/invariants.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable, type TestTable } from '#test/support/table.ts';

/**
 * Issue 18, the pending marker folded into the activation's one update of its eligibility (bench/README.md): a
 * request that waits for an active slot marks the eligibility's live slot for its scope; an activation made at once
 * checks the mark instead of the slot's pending item. Through the API handlers against DynamoDB Local.
 */
const clock = new ManualClock(new Date('2026-11-26T10:00:00Z'));
let table: TestTable;
const ROLE = 'pg-role';
const GATED = 'pg-gated';
const HOUR = 3_600_000;

const gatedPolicy = (approval: boolean) => {
  const policy = defaultPolicy();
  if (approval) {
    policy.activation.approval = {
      required: true,
      stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT4H' }],
    };
  }
  return policy;
};

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'silent';
  useClock(clock);
  table = await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
  for (const [id, approval] of [
    [ROLE, false],
    [GATED, true],
  ] as const) {
    expect(
      (await call('POST', '/v1/roles', { as: 'admin', body: { id, displayName: id, privileged: false } })).status,
    ).toBe(201);
    expect((await call('PUT', `/v1/roles/${id}/policy`, { as: 'admin', body: gatedPolicy(approval) })).status).toBe(
      200,
    );
  }
}, 180_000);

const eligible = async (principalId: string, roleId = ROLE) =>
  expect(
    (
      await call('POST', '/v1/requests', {
        as: 'admin',
        body: { action: 'adminAssign', assignmentType: 'eligible', principalId, roleId },
      })
    ).status,
  ).toBe(201);
/** An activation: at once, or (`startInMs`) waiting for its start. */
const activate = (principalId: string, roleId = ROLE, startInMs?: number) =>
  call('POST', '/v1/requests', {
    as: principalId,
    body: {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId,
      justification: 'INC-1',
      schedule: {
        ...(startInMs !== undefined && { startDateTime: new Date(clock.now().getTime() + startInMs).toISOString() }),
        expiration: { type: 'afterDuration', duration: 'PT1H' },
      },
    },
  });
const deactivate = (principalId: string, roleId = ROLE) =>
  call('POST', '/v1/requests', {
    as: principalId,
    body: { action: 'selfDeactivate', assignmentType: 'active', roleId },
  });
const eligibilitySlot = async (principalId: string, roleId = ROLE) =>
  (await scanTable(table)).find(
    (i) =>
      i.entity === 'live' && i.principalId === principalId && i.roleId === roleId && i.assignmentType === 'eligible',
  );

describe("the pending marker on the eligibility's live slot", () => {
  it('an activation at once and one waiting for its start, for the same slot at once: exactly one (20 runs)', {
    timeout: 240_000,
  }, async () => {
    for (let run = 0; run < 20; run++) {
      const principalId = `pg-racer-${run}`;
      await eligible(principalId);

      const [now, later] = await Promise.all([activate(principalId), activate(principalId, ROLE, HOUR)]);

      const won = [now, later].filter((r) => r.status === 201 || r.status === 202);
      expect(won, JSON.stringify([now.body, later.body])).toHaveLength(1);
      const lost = [now, later].find((r) => r.status >= 400);
      expect(['AlreadyActive', 'Conflict'], JSON.stringify(lost?.body)).toContain(lost?.body.code);
      const items = (await scanTable(table)).filter(
        (i) => i.principalId === principalId || i.pk === `P#user#${principalId}`,
      );
      const activeSlots = items.filter((i) => i.entity === 'live' && i.assignmentType === 'active');
      const pendings = items.filter((i) => i.entity === 'pending');
      expect(activeSlots.length + pendings.length).toBe(1);
    }
    expect(await checkInvariants(table)).toEqual([]);
  });

  it('an activation planned before a waiting request committed fails its one update, and is planned again', async () => {
    // Prepare: the activation read the eligibility (no mark); then a request waiting for the slot commits its mark.
    await eligible('pg-window');
    const deps = depsFromEnv();
    const slot = {
      principalType: 'user',
      principalId: 'pg-window',
      roleId: ROLE,
      assignmentType: 'eligible',
      scope: '/',
    };
    const eligibility = (await readLive(deps.store, slot as Slot)) as Assignment;
    const activation: Assignment = { ...eligibility, id: 'asg-window', assignmentType: 'active', origin: 'activated' };
    await deps.store.transact([ops.markPending(eligibility, '/', 'req-waiting')]);

    // Act
    const stale = deps.store.transact([ops.activationStands(eligibility, activation, 'absent')]);

    // Assess
    await expect(stale).rejects.toBeInstanceOf(StandingMoved);
    expect((await eligibilitySlot('pg-window'))?.['pending:/']).toBe('req-waiting');
  });

  it('a canceled waiting request leaves a mark the next activation removes; the one after checks the mark alone', async () => {
    // Prepare: a start an hour away holds the slot (its mark on the eligibility), then is canceled.
    await eligible('pg-cancel');
    const waiting = await activate('pg-cancel', ROLE, HOUR);
    expect(waiting.status, JSON.stringify(waiting.body)).toBe(201);
    expect(waiting.body.status).toBe('Scheduled');
    expect((await eligibilitySlot('pg-cancel'))?.['pending:/']).toBe(waiting.body.id);
    expect(await activate('pg-cancel').then((r) => r.body.code)).toBe('AlreadyActive');
    expect((await call('POST', `/v1/requests/${waiting.body.id}/cancel`, { as: 'pg-cancel' })).status).toBe(200);

    // Act
    const first = await activate('pg-cancel');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const afterFirst = await eligibilitySlot('pg-cancel');
    expect((await deactivate('pg-cancel')).status).toBe(201);
    const second = await activate('pg-cancel');

    // Assess
    expect(afterFirst?.['pending:/']).toBeUndefined();
    expect(afterFirst?.lastUse).toEqual({ assignmentId: first.body.assignmentId, at: expect.any(String) });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(await checkInvariants(table)).toEqual([]);
  });

  it('an approval clears the mark with its grant; a denial leaves one that does not block a later activation', async () => {
    // Prepare
    await eligible('pg-gate', GATED);
    const asked = await activate('pg-gate', GATED);
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect((await eligibilitySlot('pg-gate', GATED))?.['pending:/']).toBe(asked.body.id);

    // Act: approved (the grant), deactivated, asked and denied, then the policy needs no approval.
    const approved = await call('POST', `/v1/requests/${asked.body.id}/approve`, {
      as: 'bob',
      body: { justification: 'ok' },
    });
    const afterGrant = await eligibilitySlot('pg-gate', GATED);
    expect((await deactivate('pg-gate', GATED)).status).toBe(201);
    const again = await activate('pg-gate', GATED);
    expect(again.status).toBe(202);
    const denied = await call('POST', `/v1/requests/${again.body.id}/deny`, {
      as: 'bob',
      body: { justification: 'no' },
    });
    expect((await call('PUT', `/v1/roles/${GATED}/policy`, { as: 'admin', body: gatedPolicy(false) })).status).toBe(
      200,
    );
    const atOnce = await activate('pg-gate', GATED);

    // Assess
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(afterGrant?.['pending:/']).toBeUndefined();
    expect(denied.status, JSON.stringify(denied.body)).toBe(200);
    expect(atOnce.status, JSON.stringify(atOnce.body)).toBe(201);
    expect((await eligibilitySlot('pg-gate', GATED))?.['pending:/']).toBeUndefined();
    expect(await checkInvariants(table)).toEqual([]);
  });
});
