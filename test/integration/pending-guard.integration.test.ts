import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { checkInvariants, scanTable } from '#test/support/invariants.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable, type TestTable } from '#test/support/table.ts';

/**
 * The slot's pending marker (`PENDING#`) against an activation made at once: a request waiting for the slot and an
 * activation at once, racing, resolve to exactly one. Through the API handlers against DynamoDB Local.
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
describe("the slot's pending marker", () => {
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
});
