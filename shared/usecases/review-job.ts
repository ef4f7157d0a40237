import type { Deps } from '../deps.ts';
import { type Assignment, effectiveStatus, isLive } from '../domain/assignment.ts';
import { type Actor, SYSTEM_ACTOR } from '../domain/audit.ts';
import { type BatchUnit, packBatches, TRANSACTION_BYTES, TRANSACTION_ITEMS } from '../domain/batching.ts';
import { DomainError } from '../domain/errors.ts';
import { type PrincipalRef, userRef } from '../domain/primitives.ts';
import {
  approversOf,
  type Counts,
  decisionIdOf,
  defaultOutcome,
  duePlan,
  halfway,
  type InstanceReviewers,
  recommend,
  zeroCounts,
} from '../domain/review.ts';
import { newId } from '../ids.ts';
import { log } from '../log.ts';
import * as mail from '../notifications/templates.ts';
import {
  type DecisionRecord,
  guardsOf,
  type InstanceRecord,
  type InstanceStep,
  itemOf,
  keys,
  type LastUseRecord,
  mergeLiveCounts,
  ops,
  queries,
  type ReviewRecord,
  reviewKeys,
  reviewOps,
  reviewQueries,
  type SlotLastUse,
  stored,
  type WriteOp,
} from '../store/records.ts';
import { lastActivations, toAssignment } from './assignments.ts';
import { auditEvent } from './context.ts';
import { type Effect, runEffects } from './effects.ts';
import { removalPlan, removalWrites } from './lifecycle.ts';
import { readPolicy, resolvePolicy } from './roles.ts';

/**
 * The access-review job (hourly, and the tail of `stop` and `apply`). It works in small, committed steps, each one
 * TransactWriteItems that also moves the instance's `cursor` under the condition that phase and cursor are still
 * what it read; so a run that dies (or runs out of time) leaves the instance exactly where the last step left it,
 * and the next run, or a second run at the same time, continues from there without doing anything twice.
 *
 * Phases of an instance: populating (one decision item per assignment in scope, ≤ POPULATE_BATCH per step, with
 * its recommendation) → open (reviewers decide; halfway reminder) → finalizing (the end has come or it was
 * stopped: the default decision fills NotReviewed items) → applying (autoApply or `apply`: every Deny removes its
 * assignment as adminRemove does, many removals per transaction) → done. Memory stays flat: one page of items at a
 * time.
 */
export interface ReviewJobReport {
  started: number;
  itemsCreated: number;
  reminded: number;
  completed: number;
  defaultsFilled: number;
  removed: number;
  failed: number;
  /** True when time ran out before all work was done (the next run continues). */
  unfinished: boolean;
}

/** Items per step: the transaction also holds the instance's step (and maybe an audit event and its chain head). */
const POPULATE_BATCH = 96;
const FINALIZE_BATCH = 96;

export interface RunOptions {
  /** Milliseconds this run may still use; the job stops between steps when it gets low. */
  timeLeft: () => number;
  /** Who acts (the system for the schedule; the admin for stop and apply). */
  actor?: Actor;
  /** Stop when less than this is left. @default 15 s (a step takes a few seconds at most) */
  reserveMs?: number;
}

const RESERVE_MS = 15_000;

export const emptyReport = (): ReviewJobReport => ({
  started: 0,
  itemsCreated: 0,
  reminded: 0,
  completed: 0,
  defaultsFilled: 0,
  removed: 0,
  failed: 0,
  unfinished: false,
});

/** The hourly run: start what is due, then move every instance at work as far as time allows. */
export async function runReviewJob(deps: Deps, opts: RunOptions): Promise<ReviewJobReport> {
  const report = emptyReport();
  await startDue(deps, report);
  for await (const item of deps.store.stream(reviewQueries.instancesAtWork())) {
    if (opts.timeLeft() < (opts.reserveMs ?? RESERVE_MS)) {
      report.unfinished = true;
      break;
    }
    const fresh = await readInstance(deps, String(item.reviewId), String(item.id));
    if (fresh) await advanceInstance(deps, fresh, opts, report);
  }
  log('info', 'reviews done', { ...report });
  return report;
}

export async function readInstance(deps: Deps, reviewId: string, id: string): Promise<InstanceRecord | undefined> {
  const item = await deps.store.get(reviewKeys.reviewInstance(reviewId, id));
  return item ? stored.reviewInstance.fromItem(item) : undefined;
}

// ---- starting instances --------------------------------------------------------------------------------

async function startDue(deps: Deps, report: ReviewJobReport): Promise<void> {
  const now = deps.clock.now();
  for await (const item of deps.store.stream(reviewQueries.reviewsDue(now.toISOString()))) {
    const review = stored.review.fromItem(item);
    if (review.nextIndex === null) continue;
    const plan = duePlan(review.recurrence, review.duration, review.nextIndex, now);
    const next: ReviewRecord = {
      ...review,
      nextIndex: plan.nextIndex,
      nextStartDateTime: plan.nextStartDateTime,
      version: review.version + 1,
    };
    const writes: WriteOp[] = [reviewOps.replaceReview(next, review.version)];
    if (plan.start) {
      const instance: InstanceRecord = {
        id: newId('rvi', now),
        reviewId: review.id,
        displayName: review.displayName,
        status: 'InProgress',
        startDateTime: plan.start.startDateTime,
        endDateTime: plan.start.endDateTime,
        counts: zeroCounts(),
        ready: false,
        completedAt: null,
        appliedAt: null,
        phase: 'populating',
        cursor: '',
        reminded: false,
        reviewers: await reviewersOf(deps, review),
        scope: review.scope,
        defaultDecision: review.defaultDecision,
        autoApply: review.autoApply,
        requireJustification: review.requireJustification,
        recommendationLookback: review.recommendationLookback,
        createdAt: now.toISOString(),
      };
      writes.push(
        reviewOps.createInstance(instance),
        ops.audit(
          auditEvent(
            now,
            SYSTEM_ACTOR,
            'review.started',
            {},
            {
              reviewId: review.id,
              instanceId: instance.id,
              occurrence: plan.start.index,
              startDateTime: instance.startDateTime,
              endDateTime: instance.endDateTime,
            },
          ),
        ),
      );
    }
    if (await committed(deps, writes)) report.started += plan.start ? 1 : 0;
  }
}

/** The reviewers, fixed for the instance when it starts (for `approvers`: each role's first-stage approvers). */
async function reviewersOf(deps: Deps, review: ReviewRecord): Promise<InstanceReviewers> {
  if (review.reviewers.type === 'self') return { type: 'self' };
  if (review.reviewers.type === 'principals') return { type: 'principals', principals: review.reviewers.principals };
  const approvers: InstanceReviewers & { type: 'approvers' } = { type: 'approvers', approvers: {} };
  for (const roleId of review.scope.roleIds) {
    const policy = await readPolicy(deps.store, roleId).catch(() => undefined);
    approvers.approvers[roleId] = approversOf(
      policy?.policy.activation.approval.required ? policy.policy.activation.approval.stages : [],
    );
  }
  return approvers;
}

// ---- moving an instance on -----------------------------------------------------------------------------

/** Moves one instance as far as it can go now (or until time runs out). */
export async function advanceInstance(
  deps: Deps,
  start: InstanceRecord,
  opts: RunOptions,
  report: ReviewJobReport,
): Promise<InstanceRecord> {
  let i = start;
  for (;;) {
    if (opts.timeLeft() < (opts.reserveMs ?? RESERVE_MS)) {
      report.unfinished = true;
      return i;
    }
    const now = deps.clock.now();
    let step: Promise<boolean>;
    if (i.phase === 'populating') step = populate(deps, i, report);
    else if (i.phase === 'open' && now.getTime() >= Date.parse(i.endDateTime)) {
      step = complete(deps, i, now, opts.actor ?? SYSTEM_ACTOR, report);
    } else if (i.phase === 'open' && !i.reminded && now.getTime() >= halfway(i).getTime()) {
      step = remind(deps, i, report);
    } else if (i.phase === 'finalizing') step = finalize(deps, i, now, report);
    else if (i.phase === 'applying') step = applyPages(deps, i, opts, report);
    else return i;
    await step;
    const fresh = await readInstance(deps, i.reviewId, i.id);
    if (!fresh) return i;
    i = fresh;
  }
}

/** Commits a step; false when another run (or a reviewer) moved the instance first (the caller re-reads). */
async function committed(deps: Deps, writes: WriteOp[]): Promise<boolean> {
  try {
    await deps.store.transact(writes);
    return true;
  } catch (error) {
    if (error instanceof DomainError && (error.code === 'Conflict' || error.code === 'AlreadyDecided')) return false;
    throw error;
  }
}

const step = (i: InstanceRecord, s: InstanceStep, expect?: 'InProgress' | 'Completed') =>
  reviewOps.stepInstance(i, s, expect);

const reviewFacts = (i: InstanceRecord): mail.ReviewFacts => ({
  reviewId: i.reviewId,
  instanceId: i.id,
  displayName: i.displayName,
  startDateTime: i.startDateTime,
  endDateTime: i.endDateTime,
});

/** The mail to the reviewers of a whole instance (named principals, or every role's approvers); none for self. */
function instanceMails(deps: Deps, i: InstanceRecord, reminder: boolean): Effect[] {
  const r = i.reviewers;
  if (r.type === 'self') return [];
  const approvers = r.type === 'principals' ? r.principals : Object.values(r.approvers).flat();
  const facts = reviewFacts(i);
  const m = reminder
    ? mail.reviewReminder(facts, deps.config.apiUrl, deps.config.consoleUrl)
    : mail.reviewStarted(facts, deps.config.apiUrl, deps.config.consoleUrl);
  return [{ kind: 'mail', to: { approvers }, mail: m }];
}

/**
 * One mail per user of a self review. A group's items have no self reviewer (no member decides the group's access),
 * so no mail goes to a group.
 */
function selfMails(deps: Deps, i: InstanceRecord, principals: readonly PrincipalRef[], reminder: boolean): Effect[] {
  const m = reminder
    ? mail.reviewReminder(reviewFacts(i), deps.config.apiUrl, deps.config.consoleUrl)
    : mail.reviewStarted(reviewFacts(i), deps.config.apiUrl, deps.config.consoleUrl);
  const users = new Set(principals.filter((p) => p.principalType === 'user').map((p) => p.principalId));
  return [...users].map((id) => ({ kind: 'mail', to: { principals: [userRef(id)] }, mail: m }));
}

/** Populating: the next batch of assignments in scope becomes decision items, with their recommendations. */
async function populate(deps: Deps, i: InstanceRecord, report: ReviewJobReport): Promise<boolean> {
  const now = deps.clock.now();
  const types = new Set<string>(i.scope.assignmentTypes);
  const page = await deps.store.page(
    i.scope.roleIds.map((r) => queries.assignmentsOfRole(r)),
    {
      limit: POPULATE_BATCH,
      ...(i.cursor ? { nextToken: i.cursor } : {}),
      filter: (item) => {
        const a = stored.assignment.fromItem(item);
        return a.origin === 'assigned' && types.has(a.assignmentType) && isLive({ status: effectiveStatus(a, now) });
      },
      map: toAssignment,
    },
  );
  // When each eligibility was last activated (its live slot, or the item activations wrote before issue 18).
  const lastUse = await lastActivations(
    deps.store,
    page.items.filter((a) => a.assignmentType === 'eligible'),
  );
  const decisions = page.items.map((a) => decisionFor(i, a, lastUse.get(a.id) ?? null, now));
  const n = decisions.length;
  const last = page.nextToken === null;
  const writes: WriteOp[] = [
    ...decisions.map((d) => reviewOps.createDecision(d)),
    step(i, {
      set: { cursor: page.nextToken ?? '', ...(last ? { phase: 'open', ready: true } : {}) },
      add: { total: n, notReviewed: n },
    }),
  ];
  if (!(await committed(deps, writes))) return false;
  report.itemsCreated += n;
  const effects: Effect[] =
    i.reviewers.type === 'self' ? selfMails(deps, i, decisions, false) : last ? instanceMails(deps, i, false) : [];
  await runEffects(deps, effects);
  return true;
}

function decisionFor(i: InstanceRecord, a: Assignment, lastActivatedAt: string | null, now: Date): DecisionRecord {
  const r = recommend({
    assignmentType: a.assignmentType,
    createdAt: a.createdAt,
    lastActivatedAt,
    lookback: i.recommendationLookback,
    now,
  });
  return {
    id: decisionIdOf(a.id),
    instanceId: i.id,
    reviewId: i.reviewId,
    assignmentId: a.id,
    principalId: a.principalId,
    principalType: a.principalType,
    roleId: a.roleId,
    scope: a.scope,
    assignmentType: a.assignmentType,
    recommendation: r.recommendation,
    recommendationReason: r.reason,
    decision: 'NotReviewed',
    reviewedBy: null,
    reviewedAt: null,
    justification: null,
    applyResult: 'NotApplied',
    applyDetail: null,
    endDateTime: i.endDateTime,
    queue: i.reviewers.type,
    version: 1,
  };
}

/** Halfway: remind the reviewers who still have items (self: page by page, each principal with an open item). */
async function remind(deps: Deps, i: InstanceRecord, report: ReviewJobReport): Promise<boolean> {
  if (i.reviewers.type !== 'self') {
    if (!(await committed(deps, [step(i, { set: { reminded: true } }, 'InProgress')]))) return false;
    if (i.counts.notReviewed > 0) {
      report.reminded++;
      await runEffects(deps, instanceMails(deps, i, true));
    }
    return true;
  }
  const page = await decisionPage(deps, i, FINALIZE_BATCH, (d) => d.decision === 'NotReviewed');
  const last = page.nextToken === null;
  const writes = [
    step(i, { set: { cursor: page.nextToken ?? '', ...(last ? { reminded: true } : {}) } }, 'InProgress'),
  ];
  if (!(await committed(deps, writes))) return false;
  if (page.items.length) report.reminded++;
  await runEffects(deps, selfMails(deps, i, page.items, true));
  return true;
}

function decisionPage(deps: Deps, i: InstanceRecord, limit: number, keep: (d: DecisionRecord) => boolean) {
  return deps.store.page([reviewQueries.decisionsOfInstance(i.id)], {
    limit,
    ...(i.cursor ? { nextToken: i.cursor } : {}),
    consistent: true,
    filter: (item) => keep(stored.reviewDecision.fromItem(item)),
    map: (item) => stored.reviewDecision.fromItem(item),
  });
}

/** The end has come (or an admin stopped it): Completed, no more decisions; then the defaults and the apply. */
export function completeWrites(i: InstanceRecord, now: Date, actor: Actor): WriteOp[] {
  const nowIso = now.toISOString();
  return [
    step(
      i,
      {
        set: {
          status: 'Completed',
          phase: 'finalizing',
          cursor: '',
          completedAt: nowIso,
          ...(Date.parse(i.endDateTime) > now.getTime() ? { endDateTime: nowIso } : {}),
        },
      },
      'InProgress',
    ),
    ops.audit(
      auditEvent(now, actor, 'review.completed', {}, { reviewId: i.reviewId, instanceId: i.id, counts: i.counts }),
    ),
  ];
}

async function complete(deps: Deps, i: InstanceRecord, now: Date, actor: Actor, report: ReviewJobReport) {
  if (!(await committed(deps, completeWrites(i, now, actor)))) return false;
  report.completed++;
  return true;
}

/** Finalizing: the default decision fills NotReviewed items, a batch per step. */
async function finalize(deps: Deps, i: InstanceRecord, now: Date, report: ReviewJobReport): Promise<boolean> {
  const afterwards = { phase: i.autoApply ? ('applying' as const) : ('done' as const), cursor: '' };
  if (i.defaultDecision === 'none') {
    return committed(deps, [step(i, { set: afterwards })]);
  }
  const page = await decisionPage(deps, i, FINALIZE_BATCH, (d) => d.decision === 'NotReviewed');
  const nowIso = now.toISOString();
  const add: Partial<Counts> = { notReviewed: 0, approve: 0, deny: 0 };
  const writes: WriteOp[] = [];
  for (const d of page.items) {
    const outcome = defaultOutcome(i.defaultDecision, d.recommendation);
    if (!outcome) continue;
    writes.push(
      reviewOps.replaceDecision(
        {
          ...d,
          decision: outcome,
          reviewedBy: SYSTEM_ACTOR.id,
          reviewedAt: nowIso,
          justification: `default decision (${i.defaultDecision}): not reviewed by the end`,
          version: d.version + 1,
        },
        d.version,
      ),
    );
    add.notReviewed = (add.notReviewed ?? 0) - 1;
    if (outcome === 'Approve') add.approve = (add.approve ?? 0) + 1;
    else add.deny = (add.deny ?? 0) + 1;
  }
  const last = page.nextToken === null;
  const filled = writes.length;
  writes.push(step(i, { set: last ? afterwards : { cursor: page.nextToken ?? '' }, add }));
  if (last) {
    writes.push(
      ops.audit(
        auditEvent(
          now,
          SYSTEM_ACTOR,
          'review.defaultsApplied',
          {},
          {
            reviewId: i.reviewId,
            instanceId: i.id,
            defaultDecision: i.defaultDecision,
          },
        ),
      ),
    );
  }
  if (!(await committed(deps, writes))) return false;
  report.defaultsFilled += filled;
  return true;
}

/**
 * Applying: every Deny not yet applied removes its assignment, planned by removalPlan (the adminRemove path: an
 * `adminRemove` request, Revoked, audited, the lifecycle event, provisioning released, memberships left, the
 * activations standing on an eligibility ended, the workflow's expiry becomes a no-op). A page of decisions is read at
 * once, with the assignments it names and their eligibilities' last uses (one BatchGetItem each); the removals are
 * planned in parallel, then packed into as few transactions as DynamoDB takes (packBatches): each removal's writes,
 * its decision's `applyResult` and its `review.applied` audit event, one counter update per role (the batch's
 * total) and the instance's step (its counts; the cursor with the page's last), all committed together. So a run
 * that dies midway leaves every removal either done and recorded, or not done; the next run reads only the
 * decisions still NotApplied. A batch refused because one of its items changed meanwhile (a concurrent removal,
 * extension, activation) is applied again one removal at a time, each from a fresh read. A step goes on page after
 * page while time is left (the time is checked between pages).
 */
async function applyPages(deps: Deps, start: InstanceRecord, opts: RunOptions, report: ReviewJobReport) {
  const actor = opts.actor ?? SYSTEM_ACTOR;
  let i = start;
  // The next page is read and planned while this one commits (its items are other assignments: a plan made stale
  // by this page's commits fails its guards and is applied again one by one).
  let next = readAndPlan(deps, i, actor);
  for (;;) {
    const { page, outcomes } = await next;
    const last = page.nextToken === null;
    const more = !last && opts.timeLeft() >= (opts.reserveMs ?? RESERVE_MS);
    if (more) {
      next = readAndPlan(deps, { ...i, cursor: page.nextToken ?? '' }, actor);
      next.catch(() => {});
    }
    if (!(await applyPage(deps, i, page.nextToken, outcomes, actor, report))) return false;
    if (!more) return true;
    i = { ...i, cursor: page.nextToken ?? '' };
  }
}

/** The next page of Denies not yet applied, planned. */
async function readAndPlan(deps: Deps, i: InstanceRecord, actor: Actor) {
  const page = await decisionPage(deps, i, APPLY_PAGE, (d) => d.decision === 'Deny' && d.applyResult === 'NotApplied');
  return { page, outcomes: await planPage(deps, i, page.items, actor) };
}

/** A page's outcomes committed in batches; the last one moves the cursor to `nextToken` (null: the end). */
async function applyPage(
  deps: Deps,
  i: InstanceRecord,
  nextToken: string | null,
  outcomes: Outcome[],
  actor: Actor,
  report: ReviewJobReport,
): Promise<boolean> {
  const set: InstanceStep['set'] =
    nextToken === null
      ? { phase: 'done', cursor: '', status: 'Applied', appliedAt: deps.clock.now().toISOString() }
      : { cursor: nextToken };
  for (const o of outcomes.filter((o) => o.alone)) {
    if ((await applyOne(deps, i, o.decision, actor, report)) === 'moved') return false;
  }
  const planned = outcomes.filter((o) => !o.alone);
  const batches = packBatches(
    planned.map((o) => unitOf(o)),
    { maxItems: TRANSACTION_ITEMS, maxBytes: TRANSACTION_BYTES, ...APPLY_RESERVED },
  ).map((batch) => batch.map((n) => planned[n] as Outcome));
  for (const [k, batch] of batches.entries()) {
    const final = k === batches.length - 1;
    const tried = await commitOutcomes(deps, i, batch, final ? set : {}, actor, report);
    if (tried === 'committed') continue;
    if (tried === 'moved') return false;
    // One of the batch's items changed meanwhile: each removal again on its own, from what it is now.
    for (const o of batch) {
      if ((await applyOne(deps, i, o.decision, actor, report)) === 'moved') return false;
    }
    if (final && !(await committed(deps, [step(i, { set })]))) return false;
  }
  if (batches.length === 0 && !(await committed(deps, [step(i, { set })]))) return false;
  return true;
}

/** Decisions per page of the apply: one Query, and a BatchGetItem of their assignments (DynamoDB: 100 keys). */
const APPLY_PAGE = 100;
/** Removals planned at once (each reads what no bulk read gives: an eligibility's live activations, one Query). */
const PLAN_CONCURRENCY = 8;
/** What every apply transaction holds besides its removals: the instance's step and audit chain heads (2 days). */
const APPLY_RESERVED = { reservedItems: 5, reservedBytes: 64 * 1024 };
/** Tries of one removal on its own (each from a fresh read) before its decision records Failed. */
const ONE_ATTEMPTS = 3;

/** What applying one Deny comes to: its result, and the removal's writes and effects (none when nothing to remove). */
interface Outcome {
  decision: DecisionRecord;
  result: 'Applied' | 'Failed';
  detail: string;
  writes: WriteOp[];
  effects: Effect[];
  now: Date;
  /** Not planned with the page (its plan failed): applied on its own. */
  alone?: boolean;
}

const outcome = (decision: DecisionRecord, now: Date, result: 'Applied' | 'Failed', detail: string): Outcome => ({
  decision,
  result,
  detail,
  writes: [],
  effects: [],
  now,
});

/**
 * What a batch already read for its removals: the eligibilities' last uses (their `LASTUSE` items and what their live
 * slots hold), the policy scope of each role/scope.
 */
interface PageReads {
  lastUse: Map<string, LastUseRecord>;
  slotUse: Map<string, SlotLastUse | null>;
  policyScopes: Map<string, Promise<string>>;
}

/** The page's Denies planned: their assignments and last uses read in bulk, each removal planned (in parallel). */
async function planPage(deps: Deps, i: InstanceRecord, page: DecisionRecord[], actor: Actor): Promise<Outcome[]> {
  const now = deps.clock.now();
  const found = await deps.store.getMany(page.map((d) => keys.assignment(d.assignmentId)));
  const byId = new Map(found.map((item) => toAssignment(item)).map((a) => [a.id, a]));
  const live = [...byId.values()].filter((a) => isLive({ status: effectiveStatus(a, now) }));
  // Read before any of the eligibilities' activations are (the guards: the slot's last use, noNewActivations), and
  // eventually consistent (half the read units): a guard is a condition on the value read, so a stale one only fails
  // its batch, whose removals are then planned again one at a time from strongly consistent reads (applyOne). The
  // assignments above and the activations (activationsFitted) stay strongly consistent: what they say is acted on.
  const eligibilities = live.filter((a) => a.assignmentType === 'eligible');
  const [uses, slots] = await Promise.all([
    deps.store.getMany(
      eligibilities.map((a) => keys.lastUse(a.id)),
      false,
    ),
    deps.store.getMany(
      eligibilities.map((a) => keys.live(a)),
      false,
    ),
  ]);
  const slotUse = new Map<string, SlotLastUse | null>(eligibilities.map((a) => [a.id, null]));
  for (const slot of slots) slotUse.set(stored.live.fromItem(slot).id, guardsOf(slot).lastUse);
  const reads: PageReads = {
    lastUse: new Map(uses.map(stored.lastUse.fromItem).map((u) => [u.eligibilityId, u])),
    slotUse,
    policyScopes: new Map(),
  };
  return mapLimited(page, PLAN_CONCURRENCY, (d) =>
    // A removal that cannot be planned now is tried again on its own (applyOne), where it records Failed at last.
    planOne(deps, i, d, byId.get(d.assignmentId), actor, now, reads).catch(() => ({
      ...outcome(d, now, 'Failed', ''),
      alone: true,
    })),
  );
}

/** One Deny planned against its assignment as read (`a`); a failed plan is tried again on its own (applyOne). */
async function planOne(
  deps: Deps,
  i: InstanceRecord,
  d: DecisionRecord,
  a: Assignment | undefined,
  actor: Actor,
  now: Date,
  reads?: PageReads,
): Promise<Outcome> {
  if (!a) return outcome(d, now, 'Failed', 'the assignment no longer exists');
  if (!isLive({ status: effectiveStatus(a, now) })) return outcome(d, now, 'Applied', `already ended (${a.status})`);
  const by = d.reviewedBy === SYSTEM_ACTOR.id ? 'default decision' : `denied by ${d.reviewedBy}`;
  const justification = `access review "${i.displayName}" (${i.id}): ${by}`;
  let policyScope: string | undefined;
  if (reads) {
    const memo = `${a.roleId}\n${a.scope}`;
    if (!reads.policyScopes.has(memo)) {
      const scope = resolvePolicy(deps.store, a.roleId, a.scope).then((p) => p.scope);
      scope.catch(() => reads.policyScopes.delete(memo));
      reads.policyScopes.set(memo, scope);
    }
    policyScope = await reads.policyScopes.get(memo);
  }
  const known =
    reads && a.assignmentType === 'eligible'
      ? { lastUse: reads.lastUse.get(a.id), slotUse: reads.slotUse.get(a.id) ?? null }
      : undefined;
  const plan = await removalPlan(deps, actor, now, a, justification, policyScope, known);
  return {
    decision: d,
    result: 'Applied',
    detail: `removed by request ${plan.request.id}`,
    writes: removalWrites(plan, now, actor),
    effects: plan.step.effects,
    now,
  };
}

/** A Deny's record: its applyResult (guarded by the version read: applied once) and its `review.applied` event. */
function recordWrites(i: InstanceRecord, o: Outcome, actor: Actor): WriteOp[] {
  const d = o.decision;
  return [
    reviewOps.replaceDecision(
      { ...d, applyResult: o.result, applyDetail: o.detail, version: d.version + 1 },
      d.version,
    ),
    ops.audit(
      auditEvent(
        o.now,
        actor,
        'review.applied',
        { principalId: d.principalId, roleId: d.roleId, scope: d.scope, assignmentId: d.assignmentId },
        {
          reviewId: i.reviewId,
          instanceId: i.id,
          decisionId: d.id,
          decision: d.decision,
          result: o.result,
          detail: o.detail,
        },
      ),
    ),
  ];
}

/** An outcome as packBatches sees it: the items its transaction touches (a role counter merges), and its size. */
function unitOf(o: Outcome): BatchUnit {
  const writes = [...recordWritesShape(o), ...o.writes];
  return {
    items: writes.map(itemOf),
    merged: writes.filter((w) => w.liveCount).map(itemOf),
    bytes: Buffer.byteLength(JSON.stringify(writes.map(({ onConflict: _c, ...w }) => w))),
  };
}

/** recordWrites' items, for sizing (the actor only changes the event's size by its name). */
const recordWritesShape = (o: Outcome): WriteOp[] => recordWrites(SHAPE_INSTANCE, o, SYSTEM_ACTOR);
const SHAPE_INSTANCE = { reviewId: '-'.repeat(40), id: '-'.repeat(40) } as InstanceRecord;

/**
 * One transaction of outcomes: the decisions first (so a decision applied meanwhile is what a refusal names), then
 * the removals, their role counters merged, and the instance's step. After it commits, the removals' effects.
 */
async function commitOutcomes(
  deps: Deps,
  i: InstanceRecord,
  batch: Outcome[],
  set: InstanceStep['set'],
  actor: Actor,
  report: ReviewJobReport,
): Promise<'committed' | 'moved' | 'refused'> {
  const applied = batch.filter((o) => o.result === 'Applied').length;
  const failed = batch.length - applied;
  const writes = mergeLiveCounts([
    ...batch.flatMap((o) => recordWrites(i, o, actor)),
    ...batch.flatMap((o) => o.writes),
    step(i, { ...(set && Object.keys(set).length ? { set } : {}), add: { applied, failed } }),
  ]);
  try {
    await deps.store.transact(writes);
  } catch (error) {
    // Anything else (a lost answer, a time-out) fails the run like any step's: the next run goes on from here.
    if (!(error instanceof DomainError)) throw error;
    if (error.code === 'AlreadyDecided' && batch.length === 1) return 'moved';
    log('info', 'review apply batch not committed', {
      instanceId: i.id,
      removals: batch.length,
      error: String(error),
    });
    const fresh = await readInstance(deps, i.reviewId, i.id);
    if (!fresh || fresh.phase !== i.phase || fresh.cursor !== i.cursor) return 'moved';
    return 'refused';
  }
  report.removed += applied;
  report.failed += failed;
  await runEffects(
    deps,
    batch.flatMap((o) => o.effects),
  );
  return 'committed';
}

/**
 * One Deny applied on its own, from a fresh read of its assignment (after its batch was refused), a few times;
 * then its decision records Failed. 'moved' when the instance moved on meanwhile (another run), 'done' otherwise
 * (applied, failed, or already applied by another run).
 */
async function applyOne(
  deps: Deps,
  i: InstanceRecord,
  d: DecisionRecord,
  actor: Actor,
  report: ReviewJobReport,
): Promise<'done' | 'moved'> {
  let last: Outcome | undefined;
  for (let attempt = 1; attempt <= ONE_ATTEMPTS; attempt++) {
    const now = deps.clock.now();
    try {
      const item = await deps.store.get(keys.assignment(d.assignmentId));
      last = await planOne(deps, i, d, item ? toAssignment(item) : undefined, actor, now);
    } catch (error) {
      if (!(error instanceof DomainError)) {
        log('error', 'review apply failed', { decisionId: d.id, error: String(error) });
        last = outcome(d, now, 'Failed', 'the removal failed; see the logs');
        break;
      }
      last = outcome(d, now, 'Failed', error.message);
      continue;
    }
    const tried = await commitOutcomes(deps, i, [last], {}, actor, report);
    if (tried === 'committed') return 'done';
    if (tried === 'moved') return (await decided(deps, d)) ? 'done' : 'moved';
    last = outcome(d, now, 'Failed', 'the assignment changed while it was being removed; retry the apply');
  }
  const failed = outcome(d, deps.clock.now(), 'Failed', (last as Outcome).detail);
  const tried = await commitOutcomes(deps, i, [failed], {}, actor, report);
  if (tried === 'moved') return (await decided(deps, d)) ? 'done' : 'moved';
  return 'done';
}

/** Whether the decision was applied meanwhile (by another run). */
async function decided(deps: Deps, d: DecisionRecord): Promise<boolean> {
  const item = await deps.store.get(reviewKeys.reviewDecision(d.instanceId, d.id));
  return !item || stored.reviewDecision.fromItem(item).applyResult !== 'NotApplied';
}

/** Runs `fn` over items with at most `limit` in flight, keeping their order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const k = next++;
        out[k] = await fn(items[k] as T);
      }
    }),
  );
  return out;
}
