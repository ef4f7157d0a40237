/**
 * The access-review job against DynamoDB Local: resumable steps (a run that stops halfway, two runs at once), the
 * default decision, and a campaign of 100 assignments started and applied (test/support/review-campaign.ts; the same
 * campaign over 10,000 assignments, with its time, DynamoDB calls and memory, is `npm run bench:reviews`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { type Deps, depsFromEnv } from '#shared/deps.ts';
import type { Mail } from '#shared/ports/mailer.ts';
import {
  type DecisionRecord,
  type InstanceRecord,
  type Item,
  ops,
  reviewQueries,
  stored,
} from '#shared/store/records.ts';
import { Store } from '#shared/store/store.ts';
import { runReviewJob } from '#shared/usecases/review-job.ts';
import {
  DAY,
  defineReview,
  instanceOf as instanceOfReview,
  noLimit,
  runCampaign,
  seedRole,
} from '#test/support/review-campaign.ts';
import { createTestTable } from '#test/support/table.ts';

const clock = new ManualClock(new Date('2026-06-01T00:00:00Z'));
const sent: Mail[] = [];
let deps: Deps;

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'error';
  useClock(clock);
  await createTestTable();
  const base = depsFromEnv();
  deps = {
    ...base,
    // A fresh store per file, so its stats count this file's calls only.
    store: new Store(base.store.doc, base.store.tableName),
    mailer: { send: async (m) => void sent.push(m) },
    events: { publish: async () => {} },
  };
  await deps.store.transact([
    ops.putPrincipal({
      id: 'rita',
      type: 'user',
      displayName: 'Rita',
      email: 'rita@example.com',
      updatedAt: clock.now().toISOString(),
    }),
  ]);
});

const instanceOf = (reviewId: string): Promise<InstanceRecord> => instanceOfReview(deps, reviewId);

async function decisionsOf(instanceId: string): Promise<DecisionRecord[]> {
  return (await deps.store.all(reviewQueries.decisionsOfInstance(instanceId))).map((i) =>
    stored.reviewDecision.fromItem(i),
  );
}

describe('the review job, step by step', () => {
  // 250 items seeded and written in three steps: seconds on a quiet machine, a minute or more on a busy one.
  it('stops when its time is up and the next run continues where it stopped, creating every item once', {
    timeout: 180_000,
  }, async () => {
    // Prepare
    await seedRole(deps, clock, 'steps', 250, 5);
    const review = await defineReview(deps, clock, 'steps', { defaultDecision: 'none', autoApply: false });
    let checks = 0;
    // Act: the first run may take the instance's start and one populate step, then its time is up
    const first = await runReviewJob(deps, { timeLeft: () => (++checks <= 2 ? 900_000 : 0) });
    // Assess
    expect(first).toMatchObject({ started: 1, itemsCreated: 96, unfinished: true });
    const halfway = await instanceOf(review.id);
    expect(halfway).toMatchObject({ phase: 'populating', ready: false, counts: { total: 96 } });
    expect(halfway.cursor).not.toBe('');

    // Act: two runs at once continue it
    const [a, b] = await Promise.all([runReviewJob(deps, noLimit), runReviewJob(deps, noLimit)]);
    // Assess
    expect(a.itemsCreated + b.itemsCreated).toBe(250 - 96);
    const done = await instanceOf(review.id);
    expect(done).toMatchObject({
      phase: 'open',
      ready: true,
      status: 'InProgress',
      counts: { total: 250, notReviewed: 250 },
    });
    const decisions = await decisionsOf(done.id);
    expect(decisions).toHaveLength(250);
    expect(new Set(decisions.map((d) => d.assignmentId)).size).toBe(250);
    expect(decisions.filter((d) => d.recommendation === 'Approve')).toHaveLength(50);
    expect(sent.filter((m) => m.subject === 'Access review: steps review')).toHaveLength(1);
  });

  it('with defaultDecision none leaves NotReviewed items alone and removes nothing', async () => {
    // Prepare
    const review = stored.review.fromItem(
      (await deps.store.all(reviewQueries.reviews())).find((i) => i.displayName === 'steps review') as Item,
    );
    // Act
    clock.advance(15 * DAY);
    const report = await runReviewJob(deps, noLimit);
    // Assess
    expect(report).toMatchObject({ completed: 1, defaultsFilled: 0, removed: 0 });
    const inst = await instanceOf(review.id);
    expect(inst).toMatchObject({ status: 'Completed', phase: 'done', counts: { notReviewed: 250 } });
    expect((await deps.store.all(reviewQueries.instancesAtWork())).map((i) => i.id)).not.toContain(inst.id);
  });
});

describe('a campaign over 100 assignments', () => {
  // 80 removals, each a few DynamoDB calls: seconds on a quiet machine, a minute on a busy one, over three minutes
  // at load 20 (a CI run beside four test runs and a benchmark).
  it('starts in one run and applies in one run: every 5th kept, the others removed', { timeout: 420_000 }, async () => {
    // Prepare: 100 eligible assignments, every 5th activated within the look-back (20 kept, 80 to deny)
    // Act: the start (one run), then past the end, the defaults (the recommendation) and the apply (one run)
    const result = await runCampaign(deps, clock, { roleId: 'bulk', n: 100, usedEvery: 5 });

    // Assess
    expect(result.start.report).toMatchObject({ started: 1, itemsCreated: 100, unfinished: false });
    expect(result.open).toMatchObject({ phase: 'open', counts: { total: 100, notReviewed: 100 } });
    expect(result.apply.report).toMatchObject({
      completed: 1,
      defaultsFilled: 100,
      removed: 80,
      failed: 0,
      unfinished: false,
    });
    expect(result.applied).toMatchObject({
      status: 'Applied',
      phase: 'done',
      counts: { total: 100, notReviewed: 0, approve: 20, deny: 80, applied: 80, failed: 0 },
    });
    expect(result.liveAfter).toBe(20);
  });
});
