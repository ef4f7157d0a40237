/**
 * A review's apply in batches (issue 18, item 4): many removals per transaction, one counter update per role. What
 * must not change: each removal happens once and is audited (its own events, in the chain), the role's counter is
 * exact, a removal or extension of one item while its batch is in flight resolves to one outcome without losing the
 * batch's others, and a run that dies midway is finished by the next without removing anything twice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { type Deps, depsFromEnv } from '#shared/deps.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { SLOT_GUARDS } from '#shared/store/entities.ts';
import {
  type DecisionRecord,
  type Item,
  keys,
  ops,
  reviewQueries,
  stored,
  type WriteOp,
} from '#shared/store/records.ts';
import { Store } from '#shared/store/store.ts';
import { toAssignment } from '#shared/usecases/assignments.ts';
import { removeAssignment } from '#shared/usecases/lifecycle.ts';
import { runReviewJob } from '#shared/usecases/review-job.ts';
import { invariantViolations, scanTable } from '#test/support/invariants.ts';
import { DAY, defineReview, instanceOf, noLimit, seedRole } from '#test/support/review-campaign.ts';
import { createTestTable, type TestTable } from '#test/support/table.ts';

const clock = new ManualClock(new Date('2026-06-01T00:00:00Z'));
const ACCOUNT = '111111111111';
let table: TestTable;
let base: Deps;

/** A store whose `transact` hands each transaction of the apply (n: 1, 2, ...) to `before`, which sends it. */
class InterposedStore extends Store {
  applies = 0;
  constructor(
    from: Store,
    private readonly before: (writes: WriteOp[], n: number, send: () => Promise<void>) => Promise<void>,
  ) {
    super(from.doc, from.tableName);
  }
  override async transact(writes: WriteOp[], opts?: Parameters<Store['transact']>[1]): Promise<void> {
    const apply = writes.some((w) => w.audit?.action === 'review.applied' || w.audit?.action === 'assignment.revoked');
    if (!apply) return super.transact(writes, opts);
    return this.before(writes, ++this.applies, () => super.transact(writes, opts));
  }
}

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'error';
  useClock(clock);
  table = await createTestTable();
  base = depsFromEnv();
  base = { ...base, mailer: { send: async () => {} }, events: { publish: async () => {} } };
  await base.store.transact([
    ops.putPrincipal({
      id: 'rita',
      type: 'user',
      displayName: 'Rita',
      email: 'rita@example.com',
      updatedAt: clock.now().toISOString(),
    }),
  ]);
});

/** 30 eligible assignments of a new role, every 5th used (6 kept, 24 denied by default); the campaign ended. */
async function endedCampaign(roleId: string) {
  const seeded = await seedRole(base, clock, roleId, 30, 5);
  const review = await defineReview(base, clock, roleId);
  await runReviewJob(base, noLimit);
  clock.advance(15 * DAY);
  const denied = seeded.filter((_, k) => k % 5 !== 0);
  return { review, denied };
}

async function decisionsOf(instanceId: string): Promise<DecisionRecord[]> {
  return (await base.store.all(reviewQueries.decisionsOfInstance(instanceId))).map((i) =>
    stored.reviewDecision.fromItem(i),
  );
}

/** A review's decisions by the assignment each is about. */
async function decisionsByAssignment(reviewId: string): Promise<Map<string, DecisionRecord>> {
  return new Map((await decisionsOf((await instanceOf(base, reviewId)).id)).map((d) => [d.assignmentId, d]));
}

/** What a key is of: the first segment of its sort key (`ASG`, `LASTUSE`, `LIVE`). */
const kindOf = (key: Item): string => String(key.sk).split('#')[0] as string;

/** The table's broken invariants (the seeded assignments, written without requests, aside), and its audit events. */
async function tableState(roleId: string) {
  const items = await scanTable(table);
  const problems = invariantViolations(items).filter(
    (p) => !p.includes('names request null') && !p.startsWith('no audit event names assignment'),
  );
  const events = items.filter((i) => i.entity === 'audit').map((i) => stored.audit.fromItem(i));
  const of = (action: string) => events.filter((e) => e.action === action && e.target.roleId === roleId);
  const role = stored.role.fromItem((await base.store.get(keys.role(roleId))) as Item);
  return { problems, of, live: role.liveAssignments };
}

/** How many times each value occurs. */
const tally = (values: unknown[]) => {
  const m = new Map<unknown, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
};

describe('a review applied in batches', () => {
  it('removes every denied assignment once, audited, and leaves the counter exact', { timeout: 240_000 }, async () => {
    // Prepare
    const { review, denied } = await endedCampaign('batched');
    const store = new InterposedStore(base.store, (_w, _n, send) => send());
    // Act
    const report = await runReviewJob({ ...base, store }, noLimit);
    // Assess: fewer transactions than removals (several per transaction)
    expect(report).toMatchObject({ removed: 24, failed: 0, unfinished: false });
    expect(store.applies).toBeLessThanOrEqual(4);
    const inst = await instanceOf(base, review.id);
    expect(inst).toMatchObject({ status: 'Applied', counts: { deny: 24, applied: 24, failed: 0 } });
    const state = await tableState('batched');
    expect(state.problems).toEqual([]);
    expect(state.live).toBe(6);
    const revoked = state.of('assignment.revoked');
    expect(revoked).toHaveLength(24);
    expect(new Set(revoked.map((e) => e.target.assignmentId))).toEqual(new Set(denied.map((a) => a.id)));
    // One audit event per removal (cut 3): its request recorded in its assignment.revoked, no request.created.
    expect(state.of('request.created')).toEqual([]);
    for (const e of revoked) {
      expect(e.details.request).toMatchObject({ id: e.target.requestId, action: 'adminRemove', status: 'Revoked' });
    }
    expect(new Set(revoked.map((e) => e.target.requestId)).size).toBe(24);
    expect(state.of('review.applied')).toHaveLength(24);
    const decisions = (await decisionsOf(inst.id)).filter((d) => d.decision === 'Deny');
    expect(decisions.map((d) => d.applyResult)).toEqual(Array(24).fill('Applied'));
    expect(decisions.every((d) => d.applyDetail?.startsWith('removed by request req'))).toBe(true);
  });

  it('when one item of a batch is removed and another extended meanwhile: one outcome each, the others removed', {
    timeout: 240_000,
  }, async () => {
    // Prepare
    const { review, denied } = await endedCampaign('raced');
    const [gone, extended] = denied as [(typeof denied)[0], (typeof denied)[0]];
    const store = new InterposedStore(base.store, async (_w, n, send) => {
      if (n === 1) {
        // Act (meanwhile): an admin removes one of the batch's assignments, another one is extended
        await removeAssignment(base, SYSTEM_ACTOR, gone, 'removed by hand meanwhile');
        const current = toAssignment((await base.store.get(keys.assignment(extended.id))) as Item);
        const longer = { ...current, endDateTime: '2027-01-01T00:00:00.000Z', version: current.version + 1 };
        await base.store.transact(ops.replaceAssignment(longer, current.version));
      }
      return send();
    });
    // Act
    const report = await runReviewJob({ ...base, store }, noLimit);
    // Assess: the one removed meanwhile is recorded as already ended; the extended one is removed at its new version
    expect(report).toMatchObject({ removed: 24, failed: 0, unfinished: false });
    const decisions = await decisionsByAssignment(review.id);
    expect(decisions.get(gone.id)).toMatchObject({ applyResult: 'Applied', applyDetail: 'already ended (Revoked)' });
    expect(decisions.get(extended.id)?.applyDetail).toMatch(/^removed by request /);
    const state = await tableState('raced');
    expect(state.problems).toEqual([]);
    expect(state.live).toBe(6);
    const revoked = tally(state.of('assignment.revoked').map((e) => e.target.assignmentId));
    expect([...revoked.values()]).toEqual(Array(24).fill(1));
    expect(state.of('review.applied')).toHaveLength(24);
    const ended = toAssignment((await base.store.get(keys.assignment(extended.id))) as Item);
    expect(ended).toMatchObject({ status: 'Revoked', version: 3 });
  });

  it('a run that dies after a batch committed is finished by the next, removing nothing twice', {
    timeout: 240_000,
  }, async () => {
    // Prepare
    const { review } = await endedCampaign('crashed');
    const dies = new InterposedStore(base.store, async (_w, n, send) => {
      await send();
      if (n === 1) throw new Error('the function was stopped');
    });
    // Act: the first run dies after its 1st transaction committed (of 2: 7 items per removal, ≤ 100 per
    // transaction); the next run goes on
    await expect(runReviewJob({ ...base, store: dies }, noLimit)).rejects.toThrow('the function was stopped');
    const halfway = await instanceOf(base, review.id);
    const rerun = await runReviewJob(base, noLimit);
    // Assess
    expect(halfway).toMatchObject({ phase: 'applying' });
    expect(halfway.counts.applied).toBeGreaterThan(0);
    expect(rerun.removed).toBe(24 - halfway.counts.applied);
    const inst = await instanceOf(base, review.id);
    expect(inst).toMatchObject({ status: 'Applied', counts: { applied: 24, failed: 0 } });
    const state = await tableState('crashed');
    expect(state.problems).toEqual([]);
    expect(state.live).toBe(6);
    const revoked = tally(state.of('assignment.revoked').map((e) => e.target.assignmentId));
    expect([...revoked.values()]).toEqual(Array(24).fill(1));
    expect(state.of('review.applied')).toHaveLength(24);
    const decisions = (await decisionsOf(inst.id)).filter((d) => d.decision === 'Deny');
    expect(decisions.every((d) => d.applyDetail?.startsWith('removed by request'))).toBe(true);
  });

  it('over several pages (the next one planned while one commits), a stale plan of the next page applied again', {
    timeout: 240_000,
  }, async () => {
    // Prepare: 250 items (3 pages), 200 denied; one of the 2nd page's assignments is removed while the 1st page's
    // last transaction commits, after the 2nd page was read and planned
    await seedRole(base, clock, 'paged', 250, 5);
    const review = await defineReview(base, clock, 'paged');
    await runReviewJob(base, noLimit);
    clock.advance(15 * DAY);
    const items = await decisionsOf((await instanceOf(base, review.id)).id);
    const onPage2 = items.slice(150, 200).find((d) => d.recommendation === 'Deny') as DecisionRecord;
    const target = toAssignment((await base.store.get(keys.assignment(onPage2.assignmentId))) as Item);
    const store = new InterposedStore(base.store, async (writes, _n, send) => {
      const movesCursor = writes.some((w) => 'Update' in w && w.Update.UpdateExpression.includes('#s_cursor'));
      if (movesCursor && target.version === 1) {
        await removeAssignment(base, SYSTEM_ACTOR, target, 'removed by hand meanwhile');
        target.version = 2;
      }
      return send();
    });
    // Act
    const report = await runReviewJob({ ...base, store }, noLimit);
    // Assess
    expect(report).toMatchObject({ removed: 200, failed: 0, unfinished: false });
    const inst = await instanceOf(base, review.id);
    expect(inst).toMatchObject({ status: 'Applied', counts: { deny: 200, applied: 200, failed: 0 } });
    const after = new Map((await decisionsOf(inst.id)).map((d) => [d.id, d]));
    expect(after.get(onPage2.id)).toMatchObject({ applyResult: 'Applied', applyDetail: 'already ended (Revoked)' });
    const state = await tableState('paged');
    expect(state.problems).toEqual([]);
    expect(state.live).toBe(50);
    const revoked = tally(state.of('assignment.revoked').map((e) => e.target.assignmentId));
    expect([...revoked.values()]).toEqual(Array(200).fill(1));
    expect(state.of('review.applied')).toHaveLength(200);
  });

  it('reads the guards eventually consistent and what it acts on strongly; a stale guard only sends its removal to the one-at-a-time path', {
    timeout: 240_000,
  }, async () => {
    // Prepare: a store that records each bulk read's consistency by what it reads, and answers one eligibility's slot
    // as an eventually consistent read may: older than the table (a last use the slot no longer holds)
    const { review, denied } = await endedCampaign('stale');
    const staleOne = denied[3] as (typeof denied)[0];
    const staleSlot = keys.live(staleOne);
    const reads: { kind: string; consistent: boolean }[] = [];
    class StaleStore extends InterposedStore {
      override async getMany(keyList: Item[], consistent = true): Promise<Item[]> {
        for (const k of keyList) reads.push({ kind: kindOf(k), consistent });
        const found = await super.getMany(keyList, consistent);
        if (consistent) return found;
        return found.map((item) =>
          item.pk === staleSlot.pk && item.sk === staleSlot.sk
            ? { ...item, [SLOT_GUARDS.lastUse]: { assignmentId: 'asg_before', at: '2026-05-01T00:00:00.000Z' } }
            : item,
        );
      }
    }
    const attempts: { removals: string[]; committed: boolean }[] = [];
    const store = new StaleStore(base.store, async (writes, _n, send) => {
      const removals = writes.flatMap((w) =>
        w.audit?.action === 'assignment.revoked' ? [w.audit.target.assignmentId as string] : [],
      );
      try {
        await send();
        attempts.push({ removals, committed: true });
      } catch (error) {
        attempts.push({ removals, committed: false });
        throw error;
      }
    });
    // Act
    const report = await runReviewJob({ ...base, store }, noLimit);
    // Assess: the assignments read strongly, the slots and last uses not; every removal once, the stale one too
    const byKind = (kind: string) => [...new Set(reads.filter((r) => r.kind === kind).map((r) => r.consistent))];
    expect(byKind(kindOf(keys.assignment(staleOne.id)))).toEqual([true]);
    expect(byKind(kindOf(staleSlot))).toEqual([false]);
    expect(byKind(kindOf(keys.lastUse(staleOne.id)))).toEqual([false]);
    expect(report).toMatchObject({ removed: 24, failed: 0, unfinished: false });
    const withStale = attempts.filter((a) => a.removals.includes(staleOne.id));
    expect(withStale.map((a) => [a.removals.length > 1, a.committed])).toEqual([
      [true, false],
      [false, true],
    ]);
    const decisions = await decisionsByAssignment(review.id);
    expect(decisions.get(staleOne.id)?.applyDetail).toMatch(/^removed by request /);
    const state = await tableState('stale');
    expect(state.problems).toEqual([]);
    expect(state.live).toBe(6);
    const revoked = tally(state.of('assignment.revoked').map((e) => e.target.assignmentId));
    expect([...revoked.values()]).toEqual(Array(24).fill(1));
  });

  it('applies a removal whose planning failed with the page on its own, the others in batches', {
    timeout: 240_000,
  }, async () => {
    // Prepare: the Query of one eligibility's activations fails once (a transient error)
    const { review, denied } = await endedCampaign('unplanned');
    const unlucky = denied[3] as (typeof denied)[0];
    let failures = 0;
    class FlakyStore extends InterposedStore {
      override async all(q: Parameters<Store['all']>[0], consistent?: boolean) {
        if (JSON.stringify(q).includes(unlucky.principalId) && failures++ === 0) throw new Error('socket hang up');
        return super.all(q, consistent);
      }
    }
    const store = new FlakyStore(base.store, (_w, _n, send) => send());
    // Act
    const report = await runReviewJob({ ...base, store }, noLimit);
    // Assess
    expect(failures).toBe(2);
    expect(report).toMatchObject({ removed: 24, failed: 0, unfinished: false });
    const decisions = await decisionsByAssignment(review.id);
    expect(decisions.get(unlucky.id)?.applyDetail).toMatch(/^removed by request /);
    const state = await tableState('unplanned');
    expect(state.problems).toEqual([]);
    expect(state.live).toBe(6);
    expect(state.of('assignment.revoked')).toHaveLength(24);
  });

  it('releases what a removed grant holds in AWS and starts its removal there after the commit, as adminRemove does', {
    timeout: 240_000,
  }, async () => {
    // Prepare: two denied grants hold one AWS account assignment (an overlap): their removals touch one reference
    const { review, denied } = await endedCampaign('provisioned');
    const holders = denied.slice(0, 2);
    const refId = `acct|${ACCOUNT}|arn:aws:sso:::permissionSet/ssoins-1/ps-1|idc-user`;
    const now = clock.now().toISOString();
    for (const a of holders) {
      const held = {
        ...a,
        provisioning: {
          status: 'Provisioned' as const,
          requestId: null,
          targets: [
            {
              type: 'identityCenterAccountAssignment' as const,
              permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1/ps-1',
              accountId: ACCOUNT,
              identityCenterUserId: 'idc-user',
              status: 'Provisioned' as const,
              failureReason: null,
              updatedAt: now,
              refId,
              operationId: null,
              operationStartedAt: null,
            },
          ],
        },
        version: a.version + 1,
      };
      await base.store.transact([...ops.replaceAssignment(held, a.version), ops.holdRef(refId, a.id)]);
    }
    const started: string[] = [];
    const store = new InterposedStore(base.store, async (_w, _n, send) => {
      // Nothing is started in AWS before its removal commits.
      const before = started.length;
      await send();
      expect(started).toHaveLength(before);
    });
    const workflow = { ...base.workflow, start: async (name: string) => void started.push(name) };
    // Act
    const report = await runReviewJob({ ...base, store, workflow }, noLimit);
    // Assess
    expect(report).toMatchObject({ removed: 24, failed: 0 });
    expect(started.sort()).toEqual(holders.map((a) => `${a.id}-end`).sort());
    const ref = await base.store.get(keys.awsRef(refId));
    expect([...((ref?.holders as Set<string> | undefined) ?? [])]).toEqual([]);
    for (const a of holders) {
      const ended = toAssignment((await base.store.get(keys.assignment(a.id))) as Item);
      expect(ended).toMatchObject({ status: 'Revoked', provisioning: { status: 'Deprovisioning' } });
    }
    expect((await instanceOf(base, review.id)).counts).toMatchObject({ applied: 24, failed: 0 });
    const state = await tableState('provisioned');
    expect(state.problems).toEqual([]);
    expect(state.live).toBe(6);
  });
});
