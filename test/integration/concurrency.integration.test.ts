import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { reconcile } from '#shared/usecases/reconcile.ts';
import { checkInvariants, scanTable } from '#test/support/invariants.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable, type TestTable } from '#test/support/table.ts';

/**
 * Races on one slot or one request, at the handler against DynamoDB Local: each ends in exactly one of the valid
 * outcomes, and the table stays consistent (test/support/invariants.ts: counters equal live slots, one live
 * assignment per slot, every assignment with its request and audit events, the audit chains verify).
 */
const clock = new ManualClock(new Date('2026-11-26T10:00:00Z'));
let table: TestTable;

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'silent';
  useClock(clock);
  table = await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
  for (const [id, approval] of [
    ['race-role', false],
    ['race-gated', true],
  ] as const) {
    expect(
      (await call('POST', '/v1/roles', { as: 'admin', body: { id, displayName: id, privileged: true } })).status,
    ).toBe(201);
    const policy = defaultPolicy();
    policy.activation.maxExtensions = 1;
    if (approval) {
      policy.activation.approval = {
        required: true,
        stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT4H' }],
      };
    }
    expect((await call('PUT', `/v1/roles/${id}/policy`, { as: 'admin', body: policy })).status).toBe(200);
    const eligible = await call('POST', '/v1/requests', {
      as: 'admin',
      body: { action: 'adminAssign', assignmentType: 'eligible', principalId: 'alice', roleId: id },
    });
    expect(eligible.status).toBe(201);
  }
});

const slotBody = (principalId: string) => ({
  assignmentType: 'active',
  principalId,
  roleId: 'race-role',
  justification: 'race',
});
const assign = (principalId: string) =>
  call('POST', '/v1/requests', {
    as: 'admin',
    body: {
      action: 'adminAssign',
      ...slotBody(principalId),
      schedule: { expiration: { type: 'afterDuration', duration: 'PT8H' } },
    },
  });
const remove = (principalId: string) =>
  call('POST', '/v1/requests', { as: 'admin', body: { action: 'adminRemove', ...slotBody(principalId) } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('races on one slot or one request', () => {
  it('resolves parallel assigns and removes of one slot to a valid history, with the counter right', async () => {
    for (let round = 0; round < 8; round++) {
      const principalId = `racer-${round}`;
      // Odd rounds start from a live assignment (removes race each other), even ones from a free slot.
      const initial = round % 2 === 1 ? [await assign(principalId)] : [];
      const results = await Promise.all([
        remove(principalId),
        assign(principalId),
        remove(principalId),
        remove(principalId),
        assign(principalId),
      ]);
      const assigned = [...initial, results[1], results[4]].filter((r) => r?.status === 201);
      const removed = [results[0], results[2], results[3]].filter((r) => r?.status === 201);
      for (const r of results) {
        if (r.status !== 201) {
          expect([404, 409], JSON.stringify(r.body)).toContain(r.status);
          expect(typeof r.body.code).toBe('string');
        }
      }
      // Every successful remove revoked an assignment a successful assign made: what is live is the difference.
      expect(assigned.length).toBeGreaterThanOrEqual(1);
      expect(assigned.length - removed.length).toBeGreaterThanOrEqual(0);
      expect(assigned.length - removed.length).toBeLessThanOrEqual(1);
      // Each successful remove revoked a different assignment.
      expect(new Set(removed.map((r) => r.body.assignmentId)).size).toBe(removed.length);
      const items = await scanTable(table);
      const records = items.filter((i) => i.entity === 'assignment' && i.principalId === principalId);
      const live = items.filter((i) => i.entity === 'live' && i.principalId === principalId);
      expect(records).toHaveLength(assigned.length);
      expect(live).toHaveLength(assigned.length - removed.length);
      expect(records.filter((r) => r.status === 'Revoked')).toHaveLength(removed.length);
    }
    expect(await checkInvariants(table)).toEqual([]);
  });

  it('extends or expires an activation at its end, never both', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 8; round++) {
      const activated = await call('POST', '/v1/requests', {
        as: 'alice',
        body: {
          action: 'selfActivate',
          assignmentType: 'active',
          roleId: 'race-role',
          justification: `round ${round}`,
          schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
        },
      });
      expect(activated.status, JSON.stringify(activated.body)).toBe(201);
      const assignmentId = activated.body.assignmentId as string;
      const end = Date.parse(activated.body.schedule.expiration.endDateTime);
      clock.set(new Date(end - 1));
      // The extension is asked a millisecond before the end; the end comes (and the reconcile job with it) while
      // it runs, sooner or later.
      const [extended] = await Promise.all([
        call('POST', '/v1/requests', {
          as: 'alice',
          body: {
            action: 'selfExtend',
            assignmentType: 'active',
            roleId: 'race-role',
            justification: 'more time',
            schedule: { expiration: { type: 'afterDuration', duration: 'PT2H' } },
          },
        }),
        (async () => {
          await sleep(round * 3);
          clock.set(new Date(end + 1));
          await reconcile(depsFromEnv());
        })(),
      ]);
      const record = (await scanTable(table)).find((i) => i.entity === 'assignment' && i.id === assignmentId);
      if (extended.status === 201) {
        outcomes.add('extended');
        expect(record?.status).toBe('Active');
        expect(Date.parse(String(record?.endDateTime))).toBeGreaterThan(end);
        expect(record?.extensions).toBe(1);
      } else {
        outcomes.add('expired');
        expect([404, 409], JSON.stringify(extended.body)).toContain(extended.status);
        expect(typeof extended.body.code).toBe('string');
        expect(record?.status).toBe('Expired');
        expect(record?.endDateTime).toBe(new Date(end).toISOString());
        expect(record?.extensions).toBe(0);
      }
      // End whatever is left before the next round.
      clock.advance(3 * 3_600_000);
      await reconcile(depsFromEnv());
    }
    expect(await checkInvariants(table)).toEqual([]);
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('resolves a cancel and an approval of one request to exactly one outcome', async () => {
    for (let round = 0; round < 4; round++) {
      const asked = await call('POST', '/v1/requests', {
        as: 'alice',
        body: {
          action: 'selfActivate',
          assignmentType: 'active',
          roleId: 'race-gated',
          justification: `gated ${round}`,
          schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
        },
      });
      expect(asked.status, JSON.stringify(asked.body)).toBe(202);
      const id = asked.body.id as string;
      const [canceled, approved] = await Promise.all([
        call('POST', `/v1/requests/${id}/cancel`, { as: 'alice' }),
        call('POST', `/v1/requests/${id}/approve`, { as: 'bob', body: { justification: 'ok' } }),
      ]);
      expect([canceled.status, approved.status].sort()).toEqual([200, 409]);
      const loser = canceled.status === 409 ? canceled : approved;
      expect(['AlreadyDecided', 'Conflict']).toContain(loser.body.code);
      const items = await scanTable(table);
      const request = items.find((i) => i.entity === 'request' && i.id === id);
      const live = items.filter((i) => i.entity === 'live' && i.roleId === 'race-gated' && i.principalId === 'alice');
      const pending = items.filter((i) => i.entity === 'pending' && i.requestId === id);
      expect(pending).toHaveLength(0);
      if (approved.status === 200) {
        expect(request?.status).toBe('Granted');
        expect(live.filter((l) => l.assignmentType === 'active')).toHaveLength(1);
      } else {
        expect(request?.status).toBe('Canceled');
        expect(request?.assignmentId).toBeNull();
        expect(live.filter((l) => l.assignmentType === 'active')).toHaveLength(0);
      }
      clock.advance(2 * 3_600_000);
      await reconcile(depsFromEnv());
    }
    expect(await checkInvariants(table)).toEqual([]);
  });
});
