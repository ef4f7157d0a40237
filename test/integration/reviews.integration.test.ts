/**
 * The access-review job against DynamoDB Local: resumable steps (a run that stops halfway, two runs at once), the
 * default decision, and a 10,000-assignment campaign started and applied, with its time, DynamoDB calls and memory.
 *
 * Seeding: the 10,000 eligible assignments (and the activations that make some of them "used") are written with
 * BatchWriteItem, as the items `ops.createAssignment` builds (the real key recipes of records.ts: assignment record and
 * live slot), plus one update of the role's live count, instead of 10,000 adminAssign requests (which would each
 * start a workflow and take minutes); the job reads them exactly as it reads assignments made through the API.
 */
import { BatchWriteCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { type Deps, depsFromEnv } from '#shared/deps.ts';
import type { Assignment } from '#shared/domain/assignment.ts';
import type { ReviewInput } from '#shared/domain/review.ts';
import { newId } from '#shared/ids.ts';
import type { Mail } from '#shared/ports/mailer.ts';
import {
  type DecisionRecord,
  type InstanceRecord,
  type Item,
  keys,
  ops,
  type ReviewRecord,
  reviewOps,
  reviewQueries,
  strip,
} from '#shared/store/records.ts';
import { Store } from '#shared/store/store.ts';
import { runReviewJob } from '#shared/usecases/review-job.ts';
import { newRoleOps } from '#shared/usecases/roles.ts';
import { createTestTable } from '#test/support/table.ts';

const DAY = 86_400_000;
const clock = new ManualClock(new Date('2026-06-01T00:00:00Z'));
const sent: Mail[] = [];
let events = 0;
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
    events: {
      publish: async (e) => {
        events += e.length;
      },
    },
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

const noLimit = { timeLeft: () => 900_000 };

async function batchWrite(items: Item[]): Promise<void> {
  const chunks: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < chunks.length) {
        let request: Record<string, { PutRequest: { Item: Item } }[]> | undefined = {
          [deps.store.tableName]: (chunks[next++] as Item[]).map((Item) => ({ PutRequest: { Item } })),
        };
        while (request) {
          const out: BatchWriteCommandOutput = await deps.store.doc.send(
            new BatchWriteCommand({ RequestItems: request }),
          );
          const rest = out.UnprocessedItems?.[deps.store.tableName];
          request = rest?.length ? ({ [deps.store.tableName]: rest } as typeof request) : undefined;
        }
      }
    }),
  );
}

/** The items `ops.createAssignment` puts for an assignment, of the given entities (the role counter is set apart). */
const putItems = (a: Assignment, entities: string[]): Item[] =>
  ops
    .createAssignment(a)
    .flatMap((op) => ('Put' in op && entities.includes(String(op.Put.Item.entity)) ? [op.Put.Item] : []));

/** A role and `n` eligible assignments made `ageDays` ago; every `usedEvery`-th one was activated 5 days ago. */
async function seedRole(roleId: string, n: number, usedEvery: number, ageDays = 90): Promise<Assignment[]> {
  const now = clock.now();
  const made = new Date(now.getTime() - ageDays * DAY);
  const { writes } = newRoleOps({ id: roleId, displayName: roleId, privileged: true }, false, made.toISOString());
  await deps.store.transact(writes);
  const items: Item[] = [];
  const assignments: Assignment[] = [];
  for (let k = 0; k < n; k++) {
    const a: Assignment = {
      id: newId('asg', made),
      principalId: `${roleId}-p${k}`,
      principalType: 'user',
      roleId,
      scope: '/',
      assignmentType: 'eligible',
      origin: 'assigned',
      status: 'Active',
      startDateTime: made.toISOString(),
      endDateTime: null,
      requestId: null,
      eligibilityId: null,
      extensions: 0,
      justification: null,
      createdAt: made.toISOString(),
      updatedAt: made.toISOString(),
      version: 1,
    };
    assignments.push(a);
    items.push(...putItems(a, ['assignment', 'live']));
    if (k % usedEvery === 0) {
      const used = new Date(now.getTime() - 5 * DAY);
      const activation: Assignment = {
        ...a,
        id: newId('asg', used),
        assignmentType: 'active',
        origin: 'activated',
        status: 'Expired',
        startDateTime: used.toISOString(),
        endDateTime: new Date(used.getTime() + 3_600_000).toISOString(),
        eligibilityId: a.id,
        createdAt: used.toISOString(),
        updatedAt: used.toISOString(),
      };
      items.push(...putItems(activation, ['assignment', 'lastUse']));
    }
  }
  await batchWrite(items);
  await deps.store.transact([
    {
      Update: {
        Key: keys.role(roleId),
        UpdateExpression: 'SET liveAssignments = :n',
        ExpressionAttributeValues: { ':n': n },
      },
    },
  ]);
  return assignments;
}

async function defineReview(roleId: string, over: Partial<ReviewInput> = {}): Promise<ReviewRecord> {
  const now = clock.now().toISOString();
  const review: ReviewRecord = {
    id: newId('rev', clock.now()),
    displayName: `${roleId} review`,
    scope: { roleIds: [roleId], assignmentTypes: ['eligible', 'active'] },
    reviewers: { type: 'principals', principals: [{ type: 'user', id: 'rita' }] },
    duration: 'P14D',
    recurrence: { type: 'once', startDateTime: now },
    defaultDecision: 'recommendation',
    autoApply: true,
    requireJustification: true,
    recommendationLookback: 'P30D',
    nextStartDateTime: now,
    nextIndex: 0,
    createdBy: 'admin',
    createdAt: now,
    version: 1,
    ...over,
  } as ReviewRecord;
  await deps.store.transact([reviewOps.createReview(review)]);
  return review;
}

async function instanceOf(reviewId: string): Promise<InstanceRecord> {
  const items = await deps.store.all(reviewQueries.instancesOfReview(reviewId));
  expect(items).toHaveLength(1);
  return strip<InstanceRecord>(items[0] as Item);
}

async function decisionsOf(instanceId: string): Promise<DecisionRecord[]> {
  return (await deps.store.all(reviewQueries.decisionsOfInstance(instanceId))).map((i) => strip<DecisionRecord>(i));
}

describe('the review job, step by step', () => {
  it('stops when its time is up and the next run continues where it stopped, creating every item once', async () => {
    // Prepare
    await seedRole('steps', 250, 5);
    const review = await defineReview('steps', { defaultDecision: 'none', autoApply: false });
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
    const review = strip<ReviewRecord>(
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

describe('a campaign over 10,000 assignments', () => {
  it('starts in one run and applies in one run, within Lambda limits', { timeout: 900_000 }, async () => {
    // Prepare: 10,000 eligible assignments, every 5th activated within the look-back (2,000 kept, 8,000 to deny)
    const seedStarted = performance.now();
    await seedRole('bulk', 10_000, 5);
    const seedMs = performance.now() - seedStarted;
    const review = await defineReview('bulk');
    let peakRss = 0;
    let peakHeap = 0;
    const baseline = process.memoryUsage();
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 25);
    const measure = async (work: () => Promise<unknown>) => {
      const before = { ...deps.store.stats };
      const started = performance.now();
      const report = await work();
      return {
        report,
        ms: Math.round(performance.now() - started),
        reads: deps.store.stats.reads - before.reads,
        writes: deps.store.stats.writes - before.writes,
        writeUnits: Math.round(deps.store.stats.writeUnits - before.writeUnits),
      };
    };

    try {
      // Act 1: the start (one run)
      const start = await measure(() => runReviewJob(deps, noLimit));
      // Assess 1
      expect(start.report).toMatchObject({ started: 1, itemsCreated: 10_000, unfinished: false });
      const open = await instanceOf(review.id);
      expect(open).toMatchObject({ phase: 'open', counts: { total: 10_000, notReviewed: 10_000 } });

      // Act 2: past the end, the default (the recommendation) and the apply (one run)
      clock.advance(15 * DAY);
      const apply = await measure(() => runReviewJob(deps, noLimit));
      // Assess 2
      expect(apply.report).toMatchObject({
        completed: 1,
        defaultsFilled: 10_000,
        removed: 8_000,
        failed: 0,
        unfinished: false,
      });
      const applied = await instanceOf(review.id);
      expect(applied).toMatchObject({
        status: 'Applied',
        phase: 'done',
        counts: { total: 10_000, notReviewed: 0, approve: 2_000, deny: 8_000, applied: 8_000, failed: 0 },
      });
      const role = strip<{ liveAssignments: number }>((await deps.store.get(keys.role('bulk'))) as Item);
      expect(role.liveAssignments).toBe(2_000);

      const figures = {
        seedSeconds: +(seedMs / 1000).toFixed(1),
        start: { ...start, report: undefined },
        apply: { ...apply, report: undefined },
        peakRssMB: Math.round(peakRss / 2 ** 20),
        peakHeapMB: Math.round(peakHeap / 2 ** 20),
        baselineRssMB: Math.round(baseline.rss / 2 ** 20),
        baselineHeapMB: Math.round(baseline.heapUsed / 2 ** 20),
        events,
      };
      // The figures docs/reviews.md quotes.
      console.log(`REVIEW-10K ${JSON.stringify(figures)}`);
      expect(start.ms + apply.ms).toBeLessThan(15 * 60_000);
      expect(peakHeap - baseline.heapUsed).toBeLessThan(512 * 2 ** 20);
    } finally {
      clearInterval(sampler);
    }
  });
});
