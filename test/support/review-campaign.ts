/**
 * An access-review campaign over many assignments, for the integration test (a few hundred) and `npm run
 * bench:reviews` (10,000): seeding, the review definition, and the two runs of the job (start, then past the end:
 * the defaults and the removals), measured (time, DynamoDB calls, memory).
 *
 * Seeding: the eligible assignments (and the activations that make some of them "used") are written with
 * BatchWriteItem, as the items `ops.createAssignment` builds (the real key recipes of records.ts: assignment record and
 * live slot, the last use on the slot of the eligibilities activated), plus one update of the role's live count, instead of one adminAssign request each (which would each
 * start a workflow and take minutes); the job reads them exactly as it reads assignments made through the API.
 */
import { BatchWriteCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { ManualClock } from '#shared/clock.ts';
import type { Deps } from '#shared/deps.ts';
import type { Assignment } from '#shared/domain/assignment.ts';
import type { ReviewInput } from '#shared/domain/review.ts';
import { newId } from '#shared/ids.ts';
import { SLOT_GUARDS } from '#shared/store/entities.ts';
import {
  type InstanceRecord,
  type Item,
  keys,
  ops,
  type ReviewRecord,
  reviewOps,
  reviewQueries,
  stored,
} from '#shared/store/records.ts';
import { type ReviewJobReport, runReviewJob } from '#shared/usecases/review-job.ts';
import { newRoleOps } from '#shared/usecases/roles.ts';

export const DAY = 86_400_000;

/** A run of the job with all the time of a Lambda invocation. */
export const noLimit = { timeLeft: () => 900_000 };

async function batchWrite(deps: Deps, items: Item[]): Promise<void> {
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
export async function seedRole(
  deps: Deps,
  clock: ManualClock,
  roleId: string,
  n: number,
  usedEvery: number,
  ageDays = 90,
): Promise<Assignment[]> {
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
    const [record, slot] = putItems(a, ['assignment', 'live']) as [Item, Item];
    items.push(record, slot);
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
      items.push(...putItems(activation, ['assignment']));
      // Its last use, where an activation records it (ops.activationStands): on the eligibility's live slot.
      slot[SLOT_GUARDS.lastUse] = { assignmentId: activation.id, at: activation.createdAt };
    }
  }
  await batchWrite(deps, items);
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

export async function defineReview(
  deps: Deps,
  clock: ManualClock,
  roleId: string,
  over: Partial<ReviewInput> = {},
): Promise<ReviewRecord> {
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

export async function instanceOf(deps: Deps, reviewId: string): Promise<InstanceRecord> {
  const items = await deps.store.all(reviewQueries.instancesOfReview(reviewId));
  if (items.length !== 1) throw new Error(`review ${reviewId} has ${items.length} instances, not 1`);
  return stored.reviewInstance.fromItem(items[0] as Item);
}

export interface Measured {
  report: ReviewJobReport;
  ms: number;
  /** DynamoDB read calls (a Query page, a GetItem, a BatchGetItem of up to 100 keys: one each), and their units. */
  reads: number;
  readUnits: number;
  writes: number;
  writeUnits: number;
}

export interface CampaignResult {
  seedMs: number;
  start: Measured;
  apply: Measured;
  /** The instance after the start run, and after the apply run. */
  open: InstanceRecord;
  applied: InstanceRecord;
  /** The role's live count after the apply run. */
  liveAfter: number;
  peakRss: number;
  peakHeap: number;
  baseline: NodeJS.MemoryUsage;
}

/**
 * `n` eligible assignments of a new role `roleId`, 90 days old, every `usedEvery`-th activated 5 days ago;
 * reviewers named, `defaultDecision: recommendation`, `autoApply: true`. Runs the job once to start the campaign,
 * moves the clock past its end (15 days), and runs it once more (defaults and removals), measuring each run.
 */
export async function runCampaign(
  deps: Deps,
  clock: ManualClock,
  opts: { roleId: string; n: number; usedEvery: number },
): Promise<CampaignResult> {
  const seedStarted = performance.now();
  await seedRole(deps, clock, opts.roleId, opts.n, opts.usedEvery);
  const seedMs = performance.now() - seedStarted;
  const review = await defineReview(deps, clock, opts.roleId);
  let peakRss = 0;
  let peakHeap = 0;
  const baseline = process.memoryUsage();
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 25);
  const measure = async (work: () => Promise<ReviewJobReport>): Promise<Measured> => {
    const before = { ...deps.store.stats };
    const started = performance.now();
    const report = await work();
    return {
      report,
      ms: Math.round(performance.now() - started),
      reads: deps.store.stats.reads - before.reads,
      readUnits: Math.round(deps.store.stats.readUnits - before.readUnits),
      writes: deps.store.stats.writes - before.writes,
      writeUnits: Math.round(deps.store.stats.writeUnits - before.writeUnits),
    };
  };
  try {
    const start = await measure(() => runReviewJob(deps, noLimit));
    const open = await instanceOf(deps, review.id);
    clock.advance(15 * DAY);
    const apply = await measure(() => runReviewJob(deps, noLimit));
    const applied = await instanceOf(deps, review.id);
    const role = stored.role.fromItem((await deps.store.get(keys.role(opts.roleId))) as Item);
    return { seedMs, start, apply, open, applied, liveAfter: role.liveAssignments, peakRss, peakHeap, baseline };
  } finally {
    clearInterval(sampler);
  }
}
