import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { defaultAlertSettings } from '#shared/domain/alerts.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { keys, ops } from '#shared/store/records.ts';
import { alertId, scanAlerts } from '#shared/usecases/alerts.ts';
import { forEachAuditEvent } from '#shared/usecases/audit.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { auditEvent } from '#shared/usecases/context.ts';
import { weeklyDigest } from '#shared/usecases/digest.ts';
import { createTestTable } from '#test/support/table.ts';

/**
 * The alerts scan and the weekly digest within a time budget (issue 12, item 8): a run cut short keeps its progress,
 * and the next run goes on from it to the result an uncut run gives.
 */
const clock = new ManualClock(new Date('2026-11-26T10:00:00Z'));
const ACTIVATIONS = 6;

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'error';
  useClock(clock);
  await createTestTable();
  const deps = depsFromEnv();
  await bootstrap(deps, ['admin']);
  // Six activations of one role by one user after the bootstrap (over the threshold of 5), and only that alert on.
  const off = { enabled: false } as const;
  const d = defaultAlertSettings();
  await deps.store.transact([
    ops.putAlertSettings({
      roleWithoutMfa: { ...d.roleWithoutMfa, ...off },
      tooManyPermanentAssignments: { ...d.tooManyPermanentAssignments, ...off },
      activatedTooFrequently: { ...d.activatedTooFrequently, threshold: 5 },
      staleEligibility: { ...d.staleEligibility, ...off },
      emergencyAccountUsed: { ...d.emergencyAccountUsed, ...off },
      expiryMissed: { ...d.expiryMissed, ...off },
    }),
  ]);
  for (let i = 0; i < ACTIVATIONS; i++) {
    const at = new Date(clock.now().getTime() + (i + 1) * 60_000);
    await deps.store.transact([
      ops.audit(auditEvent(at, SYSTEM_ACTOR, 'assignment.activated', { principalId: 'busy', roleId: 'ops' }, {})),
    ]);
  }
  clock.advance(3_600_000);
}, 120_000);

/** All audit events of the last week (the bootstrap's and the scan's among them). */
async function auditEventCount(): Promise<number> {
  let n = 0;
  const to = clock.now().toISOString();
  await forEachAuditEvent(
    depsFromEnv().store,
    new Date(clock.now().getTime() - 7 * 86_400_000).toISOString(),
    to,
    () => {
      n++;
    },
  );
  return n;
}

/**
 * A run whose time runs low after it has handled a little more than half of the events (as the reconcile
 * time-budget test does): two such runs see them all only if the second goes on where the first stopped.
 */
const shortBudget = (asks: number) => {
  let checks = 0;
  const handled = Math.floor(asks / 2) + 1;
  return { timeLeft: () => (++checks > handled ? 1_000 : 60_000), reserveMs: 5_000 };
};

describe('jobs cut short by their time budget', () => {
  it('the alerts scan goes on where it stopped and completes the finding', async () => {
    // Act: two runs, neither of which could read all six events alone.
    const events = await auditEventCount();
    // An uncut scan asks for its time left about twice per event (22 times for these 11 events, measured; the
    // activations are read first). The first run stops within the activations; the second is allowed 17 asks,
    // fewer than a scan from the start needs: it completes only by going on where the first stopped.
    const first = await scanAlerts(depsFromEnv(), shortBudget(events));
    const afterFirst = await depsFromEnv().store.get(keys.jobProgress('alerts'));
    const second = await scanAlerts(depsFromEnv(), shortBudget(events * 3));

    // Assess
    expect(first).toMatchObject({ raised: 0, complete: false });
    expect(afterFirst).toBeDefined();
    expect(second).toMatchObject({ raised: 1, complete: true });
    expect(await depsFromEnv().store.get(keys.jobProgress('alerts'))).toBeUndefined();
    const alert = await depsFromEnv().store.get(keys.alert(alertId('activatedTooFrequently', 'busy#ops')));
    expect(alert?.details).toMatchObject({ count: ACTIVATIONS });
    // An uncut run finds the same: nothing new raised, nothing resolved, the same count.
    expect(await scanAlerts(depsFromEnv())).toMatchObject({ raised: 0, resolved: 0, active: 1, complete: true });
    const again = await depsFromEnv().store.get(keys.alert(alertId('activatedTooFrequently', 'busy#ops')));
    expect(again?.details).toEqual(alert?.details);
  });

  it('the weekly digest goes on where it stopped and then equals an uncut digest', async () => {
    // Act
    const events = await auditEventCount();
    const first = await weeklyDigest(depsFromEnv(), shortBudget(events));
    const second = await weeklyDigest(depsFromEnv(), shortBudget(events));
    const uncut = await weeklyDigest(depsFromEnv());

    // Assess
    expect(first.complete).toBe(false);
    expect(second.complete).toBe(true);
    expect(uncut.activationsPerRole).toEqual({ ops: ACTIVATIONS });
    expect(second).toEqual(uncut);
    expect(await depsFromEnv().store.get(keys.jobProgress('digest'))).toBeUndefined();
  });
});
