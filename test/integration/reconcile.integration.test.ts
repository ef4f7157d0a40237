import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { keys } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { useExportPorts } from '#shared/usecases/exports.ts';
import { reconcile } from '#shared/usecases/reconcile.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

/**
 * The reconcile job alone, with no workflow running at all (no STATE_MACHINE_ARN here): what a lost or
 * failed workflow would have done, it does.
 */
const clock = new ManualClock(new Date('2026-11-26T10:00:00Z'));

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'error';
  useClock(clock);
  await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
  await call('POST', '/v1/roles', { as: 'admin', body: { id: 'ops', displayName: 'Ops', privileged: true } });
});

const assign = (principalId: string, body: Record<string, unknown>) =>
  call('POST', '/v1/requests', {
    as: 'admin',
    body: { action: 'adminAssign', assignmentType: 'active', roleId: 'ops', principalId, justification: 'x', ...body },
  });

describe('the reconcile job', () => {
  it('expires what no workflow expired, records the finding, and frees the slot', async () => {
    const res = await assign('late', { schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } } });
    clock.advance(2 * 3_600_000);
    const report = await reconcile(depsFromEnv());
    expect(report).toMatchObject({ expired: 1, missed: 1 });
    const assignment = await call('GET', `/v1/assignments/${res.body.assignmentId}`, { as: 'admin' });
    expect(assignment.body.status).toBe('Expired');
    const findings = await call('GET', '/v1/audit-events?action=alert.expiryMissed', { as: 'admin' });
    expect(findings.body.items[0].target.assignmentId).toBe(res.body.assignmentId);
    expect(
      await depsFromEnv().store.get(
        keys.live({ principalType: 'user', principalId: 'late', roleId: 'ops', assignmentType: 'active', scope: '/' }),
      ),
    ).toBeUndefined();
    expect((await reconcile(depsFromEnv())).expired).toBe(0);
  });

  it('works within its time budget, and the next run goes on from where it stopped', async () => {
    // Prepare: three assignments past their end, and a run whose time is short after its first expiry.
    for (const p of ['budget-1', 'budget-2', 'budget-3']) {
      await assign(p, { schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } } });
    }
    clock.advance(2 * 3_600_000);
    let checks = 0;
    const budget = { timeLeft: () => (++checks > 1 ? 1_000 : 60_000), reserveMs: 5_000 };

    // Act
    const first = await reconcile(depsFromEnv(), budget);
    const second = await reconcile(depsFromEnv());

    // Assess
    expect(first).toMatchObject({ expired: 1, complete: false });
    expect(second).toMatchObject({ expired: 2, complete: true });
  });

  it('starts a scheduled assignment whose start has come', async () => {
    const start = new Date(clock.now().getTime() + 3_600_000).toISOString();
    const res = await assign('early', {
      schedule: { startDateTime: start, expiration: { type: 'afterDuration', duration: 'PT8H' } },
    });
    expect(res.body.status).toBe('Scheduled');
    clock.advance(2 * 3_600_000);
    expect((await reconcile(depsFromEnv())).started).toBe(1);
    expect((await call('GET', `/v1/requests/${res.body.id}`, { as: 'admin' })).body.status).toBe('Granted');
  });

  it('reminds the holder a day and an hour before the end, once each', async () => {
    await call('PUT', '/v1/principals/holder', {
      as: 'admin',
      body: { type: 'user', displayName: 'Holder', email: 'holder@example.com' },
    });
    await assign('holder', { schedule: { expiration: { type: 'afterDuration', duration: 'P3D' } } });
    clock.advance(2 * 86_400_000 + 3_600_000);
    expect((await reconcile(depsFromEnv())).reminded).toBe(1);
    expect((await reconcile(depsFromEnv())).reminded).toBe(0);
    clock.advance(22 * 3_600_000 + 30 * 60_000);
    expect((await reconcile(depsFromEnv())).reminded).toBe(1);
  });

  it('starts again an audit export whose job could not be started, and never fails the request for it', async () => {
    // Prepare: the job port fails at first (Lambda throttled, say), then works.
    const started: string[] = [];
    let failing = true;
    useExportPorts({
      objects: { upload: unused, create: unused, presignGet: unused },
      jobs: {
        start: async (id) => {
          if (failing) throw new Error('TooManyRequestsException: rate exceeded');
          started.push(id);
        },
      },
    });
    try {
      const from = new Date(clock.now().getTime() - 3_600_000).toISOString();
      const res = await call('POST', '/v1/audit-exports', {
        as: 'admin',
        body: { from, to: clock.now().toISOString(), format: 'jsonl' },
      });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('Pending');
      failing = false;
      expect((await reconcile(depsFromEnv())).exportsRestarted).toBe(0);
      clock.advance(6 * 60_000);
      // Act
      const report = await reconcile(depsFromEnv());
      // Assess
      expect(report.exportsRestarted).toBe(1);
      expect(started).toEqual([res.body.id]);
    } finally {
      useExportPorts(undefined);
    }
  });
});

const unused = async (): Promise<never> => {
  throw new Error('not used by this test');
};
